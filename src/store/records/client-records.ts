/** The registered parties: OAuth clients (RFC 7591 metadata) and protected resources (RFC 8707, RFC 9728). Conventions: see ../records.ts. */
/**
 * The records the store keeps and hands out (clients, users, sessions, codes, tokens, keys,
 * logout deliveries, limits, audit events) and the few shapes shared by the store's parts (pool
 * statistics, change notifications). Plain data types: the repositories in
 * src/store/repositories/ map them to rows, and src/store/store.ts re-exports them with the
 * Store interface, so the repositories depend on this file and never on store.ts (no cycle).
 *
 * Conventions: every time is an integer count of milliseconds since the Unix epoch; secrets are
 * never stored in clear (the caller passes a hash, and lookups are by hash).
 */
export type TokenEndpointAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'none';

/** RFC 7517 §5: a JWK Set; the keys are public JWKs (RFC 7517 §4), checked at registration. */
export interface JwkSet {
  keys: Array<Record<string, unknown>>;
}

export interface Client {
  clientId: string;
  /** Hash of the secret (see src/core/secrets.ts); null for public clients. */
  clientSecretHash: string | null;
  clientName: string | null;
  redirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** Space-separated scopes this client may request. */
  scope: string;
  /** RFC 9700 §2.1.1: PKCE is required unless a confidential client opted out. */
  requirePkce: boolean;
  /**
   * OpenID Connect Dynamic Client Registration §2 `id_token_signed_response_alg`: the JWS
   * algorithm of this client's ID tokens; null means the server's `id_token_signed_response_alg_default` (RS256).
   */
  idTokenSignedResponseAlg: 'ES256' | 'RS256' | null;
  /**
   * Whether this client's ID tokens carry the user's claims its granted scopes release (OIDC
   * Core §5.4: profile, email, address, phone), besides UserInfo. Absent: the server's
   * `id_token_claims_default` (stored as NULL).
   */
  idTokenClaims?: boolean;
  /**
   * OpenID Connect Core §8: `public` (sub is the user id) or `pairwise` (sub differs per sector;
   * see src/core/users/subject-identifiers.ts).
   */
  subjectType: 'public' | 'pairwise';
  /**
   * OpenID Connect RP-Initiated Logout 1.0 §3.1: where the browser may be sent after a logout
   * (`post_logout_redirect_uri` must match one of these exactly).
   */
  postLogoutRedirectUris: string[];
  /** OpenID Connect Back-Channel Logout 1.0 §2.2: where logout tokens are POSTed; null for none. */
  backchannelLogoutUri: string | null;
  /** Back-Channel Logout 1.0 §2.2: whether the client needs `sid` in logout tokens. */
  backchannelLogoutSessionRequired: boolean;
  /**
   * RFC 8693 policy (a Gatehouse metadata extension, `token_exchange_resources`): the registered
   * resources this client may get tokens for by exchanging a user's access token. Empty: none.
   */
  tokenExchangeResources: string[];
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: the client must send a DPoP proof with every token request. */
  dpopBoundAccessTokens: boolean;
  /** RFC 7591 §2 `jwks`: the client's public keys (private_key_jwt, RFC 7523 §2.2); null for none. */
  jwks: JwkSet | null;
  /** RFC 7591 §2 `jwks_uri`: where the client publishes its public keys (https); null for none. */
  jwksUri: string | null;
  /**
   * OpenID Connect Dynamic Client Registration §2 `token_endpoint_auth_signing_alg`: the only JWS
   * algorithm accepted for this client's assertions; null: any the server supports for its method.
   */
  tokenEndpointAuthSigningAlg: string | null;
  /**
   * client_secret_jwt (OIDC Core §9): the client secret sealed under a key derived from
   * GATEHOUSE_SECRET (src/core/clients/client-secret-seal.ts), since verifying the HMAC needs the
   * secret itself; null for every other method.
   */
  clientSecretSealed: string | null;
  /**
   * RFC 9126 §6 `require_pushed_authorization_requests`: this client's authorization requests
   * must come through the pushed authorization request endpoint.
   */
  requirePushedAuthorizationRequests: boolean;
  /**
   * RFC 9101 §10.5 `request_object_signing_alg` (OpenID Connect Dynamic Client Registration §2):
   * the only JWS algorithm accepted for this client's request objects; null: any the server supports.
   */
  requestObjectSigningAlg: string | null;
  /** RFC 9101 §10.5 `require_signed_request_object`: every authorization request must be a signed request object. */
  requireSignedRequestObject: boolean;
  /**
   * The security profile the client is held to beyond the server's: `fapi2`, the FAPI 2.0
   * Security Profile (src/core/profile/fapi2-profile.ts); null: the server's `profile` setting.
   */
  profile: 'fapi2' | null;
  /**
   * draft-ietf-oauth-client-id-metadata-document: the client is described by the document at its
   * client_id URL, not registered here; its row exists for the references of its tokens and is
   * trusted only while the document is (src/core/clients/client-resolver.ts). Absent: false.
   */
  metadataDocument?: boolean;
  /**
   * How the client came to be: `operator` (config file, CLI) or `dynamic` (RFC 7591 POST
   * /register, by anyone in open mode): the consent page marks a dynamic client unverified, and it
   * gets only the scopes and resources the registration settings open to such clients.
   */
  registrationKind: RegistrationKind;
  createdAt: number;
}

export type RegistrationKind = 'operator' | 'dynamic';

/** RFC 7592 §1: what the store keeps of a self-registered client besides the client itself. */
export interface ClientRegistration {
  clientId: string;
  /** SHA-256 of the registration access token (RFC 7592 §3). */
  accessTokenHash: string;
  createdAt: number;
  /** Its creation, or (at most hourly) a token issued to it; the cleanup deletes it when too old. */
  lastActiveAt: number;
}

/** RFC 7591 §3 initial access token, issued by the operator (`gatehouse registration-tokens create`). */
export interface InitialAccessToken {
  id: string;
  /** SHA-256 of the token. */
  tokenHash: string;
  createdAt: number;
  /** Null: never expires. */
  expiresAt: number | null;
  /** Registrations it may still authorize; null: any number. */
  usesLeft: number | null;
  revokedAt: number | null;
}

/** A protected resource (RFC 8707 resource indicator, RFC 9728 resource). */
export interface ProtectedResource {
  /** The resource indicator: an absolute URI without a fragment (RFC 8707 §2). */
  identifier: string;
  name: string | null;
  /** Scopes this resource offers. */
  scopes: string[];
  /** Clients (the resource server's own credentials) allowed to introspect its tokens. */
  introspectionClientIds: string[];
  createdAt: number;
}
