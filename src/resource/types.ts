/**
 * The public types of the resource-server verifier: options, verified claims (RFC 9068 §2.2) and
 * RFC 9728 §2 protected resource metadata.
 */

/** Claims of a verified access token (RFC 9068 §2.2; the same fields come back from RFC 7662 introspection). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  /** Space-separated scope values (RFC 6749 §3.3); absent when the token carries no scope. */
  scope?: string;
  jti?: string;
  iat?: number;
  exp: number;
  auth_time?: number;
  [claim: string]: unknown;
}

/** RFC 9728 §2 protected resource metadata. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  /** RFC 9728 §2: the algorithms of DPoP proofs accepted with DPoP-bound tokens (RFC 9449 §7). */
  dpop_signing_alg_values_supported: string[];
  resource_name?: string;
}

export interface VerifierOptions {
  /** The Gatehouse issuer identifier, exactly as it appears in the `iss` claim. */
  issuer: string;
  /** This resource's identifier (RFC 8707 resource indicator); must be contained in the token's `aud`. */
  audience: string;
  /** JWS algorithms accepted (default `['ES256', 'EdDSA']`). `none` and HMAC algorithms are refused. */
  algorithms?: string[];
  /** Leeway for `exp`/`nbf` checks, in seconds (default 5). */
  clockToleranceSeconds?: number;
  /** `jwt` (default): verify the signature locally. `introspection`: ask the authorization server (sees revocation). */
  mode?: 'jwt' | 'introspection';
  /** Required in introspection mode: this resource's own client credentials at Gatehouse. */
  introspection?: { clientId: string; clientSecret: string; cacheSeconds?: number };
  /** Fetch implementation used for discovery, the JWKS and introspection (default: global `fetch`). */
  fetch?: typeof fetch;
  /** `realm` of the `WWW-Authenticate` challenge (default: the audience). */
  realm?: string;
  /**
   * URL of this resource's RFC 9728 metadata, advertised as `resource_metadata` in challenges. Default: derived
   * from the audience per RFC 9728 §3.1 (`https://api.example.com/v1` →
   * `https://api.example.com/.well-known/oauth-protected-resource/v1`) when the audience is an http(s) URL.
   */
  resourceMetadataUrl?: string;
  /** `scopes_supported` of the protected resource metadata. */
  scopesSupported?: string[];
  /** `resource_name` of the protected resource metadata. */
  resourceName?: string;
  /** Minimum seconds between JWKS refetches triggered by an unknown `kid` (default 30; jose's cooldown). */
  jwksCooldownSeconds?: number;
  /** Timeout of each request to the authorization server, in seconds (default 5). */
  httpTimeoutSeconds?: number;
  /** Clock in epoch milliseconds (default `Date.now`); for tests. */
  clock?: () => number;
  /**
   * RFC 9449 §7, DPoP-bound tokens: `maxAgeSeconds`, how long after its `iat` a proof is accepted (default 60 s).
   * The proof's `htu` (§4.3) is compared with the request's URL, query ignored: by default as the verifier sees
   * it (a Web `Request`'s `url`; from the Node adapters, `https` on a TLS connection, the Host header and the
   * path). `origin` (e.g. `https://api.example.com`), the externally visible origin of this resource, replaces
   * the request's scheme, host and port: set it behind a TLS-terminating proxy, or so as not to trust Host.
   */
  dpop?: { maxAgeSeconds?: number; origin?: string };
  /**
   * Development only: report each accept or reject (with the token's `jti`, never the token) to a
   * Gatehouse running with the flow inspector, so its Resource lane fills in: its
   * `<issuer>/_gatehouse/resource-events` URL, or that and the inspector's access token.
   */
  reportTo?: string | { url: string; token?: string };
}

export interface ResourceVerifier {
  /**
   * Extracts the bearer token from `request`, validates it and checks that it grants every scope in
   * `requiredScopes`. Throws `BearerError` (client errors) or `AuthorizationServerUnavailableError`.
   */
  verify(request: Request, requiredScopes?: string[]): Promise<AccessTokenClaims>;
  /** Validates an already-extracted token (no extraction rules applied). */
  verifyToken(token: string, requiredScopes?: string[]): Promise<AccessTokenClaims>;
  /** RFC 9728 §2 protected resource metadata for this resource. */
  metadata(): ProtectedResourceMetadata;
  /** Where the metadata is advertised (`resource_metadata`), if known. */
  readonly resourceMetadataUrl: string | undefined;
}
