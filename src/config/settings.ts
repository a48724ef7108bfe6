/**
 * The resolved settings of one Gatehouse instance. Built by src/config/resolve-settings.ts from
 * (in order of precedence) CLI flags, environment variables, the config file and defaults.
 */
import type { ClientFixture, ResourceFixture, UserFixture } from './fixture-types.js';
import type { BrandingSettings } from '../ui/branding.js';
import { EXPLAIN_ERRORS_MODES, SETTINGS, type REGISTRATION_MODES, type SchemaSettingPath } from './settings-schema.js';

export type { ClientFixture, ResourceFixture, UserFixture } from './fixture-types.js';

/** One brute-force limit (src/core/limits/attempt-limits.ts); config file keys in snake_case. */
export interface AttemptLimit {
  /** Failures allowed without any delay. */
  freeAttempts: number;
  /** The delay before the next attempt after the first failure beyond the free ones; doubles with every further failure. */
  backoffBaseMs: number;
  /** After this many failures the subject is locked for lockSeconds. */
  lockAfter: number;
  /** How long a lock lasts (the longest delay); a counter without attempts for twice this long is forgotten. */
  lockSeconds: number;
}

/** Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document). */
/** The flow inspector (src/core/inspector/, docs/inspector.md). */
export interface InspectorSettings {
  /** `/_gatehouse/flows` and the recording behind it; off: nothing is recorded and `/_gatehouse/*` is 404. */
  enabled: boolean;
  /** Serve it on an issuer that is not loopback (needs accessToken). */
  allowRemote: boolean;
  /** When set, every `/_gatehouse/*` request must carry it (Bearer, or the Basic password). */
  accessToken?: string | undefined;
  /** Flows kept in memory per instance. */
  maxFlows: number;
  /** Minutes flow steps stay in the database. */
  retentionMinutes: number;
}

export interface ClientMetadataDocumentSettings {
  enabled: boolean;
  /** Fetch from private, loopback and link-local addresses too (development and tests only). */
  allowPrivateAddresses: boolean;
  /** A document is kept at least this long, whatever its Cache-Control says. */
  minCacheSeconds: number;
  /** And trusted at most this long after it was fetched, also when refetching it fails. */
  maxCacheSeconds: number;
  maxResponseBytes: number;
  connectTimeoutMs: number;
  timeoutMs: number;
}

export { EXPLAIN_ERRORS_MODES };
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];
export type ExplainErrors = (typeof EXPLAIN_ERRORS_MODES)[number];

export interface GatehouseSettings {
  /** The issuer identifier (RFC 8414 §2): https, or http only on a loopback host. */
  issuer: string;
  port: number;
  host: string;
  /** `sqlite:PATH`, `sqlite::memory:` or `postgres://...`. */
  databaseUrl: string;
  /** Secret from which the key encrypting signing keys at rest is derived. */
  secret: string;
  /** Signing algorithm for new keys (access tokens; ID tokens see idTokenSignedResponseAlgDefault). */
  signingAlg: 'ES256' | 'EdDSA';
  /**
   * The JWS algorithm of the ID tokens (and logout tokens) of a client that registered no
   * `id_token_signed_response_alg`. OpenID Connect Dynamic Client Registration §2 makes RS256
   * that default, and relying parties that enforce it reject any other; EdDSA only when
   * signingAlg is EdDSA.
   */
  idTokenSignedResponseAlgDefault: 'RS256' | 'ES256' | 'EdDSA';
  /**
   * Whether the ID token carries the claims the granted scopes release (profile, email, address,
   * phone; OIDC Core §5.4) for a client that did not set `id_token_claims` itself. Besides
   * UserInfo, where they always are.
   */
  idTokenClaimsDefault: boolean;
  /** RFC 9700 §4.2.1 / RFC 6749 §4.1.2: short-lived codes (default 60 s). */
  codeTtlSeconds: number;
  accessTokenTtlSeconds: number;
  /** Lifetime of a single sign-on session. */
  sessionTtlSeconds: number;
  /**
   * Lifetime of the device cookie a successful sign-in sets: it lets that browser sign the same
   * user in while the username is throttled for everyone else (OWASP device cookies).
   */
  deviceCookieTtlSeconds: number;
  /** How long a user has to log in and consent once an authorization request arrived. */
  interactionTtlSeconds: number;
  /** RFC 8628 §3.2 `expires_in`: lifetime of a device code and its user code. */
  deviceCodeTtlSeconds: number;
  /** RFC 8628 §3.2 `interval`: the seconds a device waits between polls of the token endpoint. */
  deviceCodeIntervalSeconds: number;
  /** RFC 9126 §2.2: how long a pushed request's request_uri may be used (default 60 s). */
  parRequestUriTtlSeconds: number;
  /**
   * RFC 9126 §5: authorization requests of every client must come through the pushed
   * authorization request endpoint (a client can require it for itself, §6).
   */
  requirePushedAuthorizationRequests: boolean;
  /**
   * RFC 9101 §10.5: authorization requests of every client must be signed request objects (a
   * client can require it for itself with `require_signed_request_object`).
   */
  requireSignedRequestObject: boolean;
  /** RFC 9101 §6.3 / §10.5: how far ahead a request object's `exp` may lie (default 300 s). */
  requestObjectMaxLifetimeSeconds: number;
  /** `fapi2`: every client is held to the FAPI 2.0 Security Profile (src/core/profile/fapi2-profile.ts). */
  profile: 'oauth2.1' | 'fapi2';
  /** A refresh token unused for this long expires (its family may live on through its successor). */
  refreshTokenIdleTtlSeconds: number;
  /** A refresh token family ends this long after the authorization, however often it is used. */
  refreshTokenAbsoluteTtlSeconds: number;
  /**
   * A just-rotated refresh token presented again by the same client within this window gets the
   * same successor instead of revoking the family (lost responses, parallel requests). 0 disables.
   */
  refreshTokenGraceSeconds: number;
  /**
   * RFC 7523 §3: a client assertion whose `exp` lies further ahead than this is refused, and its
   * `jti` is remembered until its `exp` (so this also bounds the replay store).
   */
  clientAssertionMaxLifetimeSeconds: number;
  /**
   * `gatehouse keys rotate`: how long a new signing key is only published in the JWKS before it
   * starts signing, so that relying parties and resource servers have it cached first. At least
   * the JWKS Cache-Control max-age (300 s) plus the key reload interval (30 s).
   */
  keyActivationDelaySeconds: number;
  /**
   * OpenID Connect Back-Channel Logout 1.0: a logout token is delivered with retries and
   * exponential backoff (initial delay, doubling up to the maximum) until it is accepted, or
   * until this many attempts were made or this much time has passed since the logout.
   */
  backchannelLogoutMaxAttempts: number;
  backchannelLogoutMaxAgeSeconds: number;
  backchannelLogoutBackoffInitialMs: number;
  backchannelLogoutBackoffMaxMs: number;
  /** Time limit of one delivery request to a client's backchannel_logout_uri. */
  backchannelLogoutTimeoutMs: number;
  /**
   * Outbound requests to URLs that clients chose (back-channel logout URIs) go through
   * src/core/outbound/safe-fetch.ts, which refuses private, loopback, link-local (cloud
   * metadata) and other special-use addresses unless this is true: for development, tests, or
   * relying parties on the operator's own network. Also decides whether such IP literals may be
   * registered.
   */
  outboundAllowPrivateAddresses: boolean;
  /** The largest response body accepted from such a request. */
  outboundMaxResponseBytes: number;
  /**
   * draft-ietf-oauth-client-id-metadata-document: an https client_id URL with a path names the
   * client's metadata document (src/core/clients/client-metadata-document.ts), when enabled.
   */
  clientMetadataDocuments: ClientMetadataDocumentSettings;
  inspector: InspectorSettings;
  /** RFC 9449 §4.3, §11.1: how long after its iat a DPoP proof is accepted (seconds). */
  dpopProofMaxAgeSeconds: number;
  /** RFC 9449 §8: whether every DPoP proof must carry a server nonce. */
  dpopNonceRequired: boolean;
  /**
   * The bearer token that unlocks GET /metrics (Prometheus). Unset: /metrics is disabled, so
   * the main port never exposes metrics to the public by default.
   */
  metricsToken?: string | undefined;
  /**
   * How long an instance may use its cached copy of a client or a protected resource (0: no cache). Changes made on
   * PostgreSQL reach every instance sooner, through LISTEN/NOTIFY; this is the upper bound.
   */
  clientCacheTtlSeconds: number;
  /** How often each instance deletes expired rows (src/core/maintenance/cleanup-worker.ts); 0 disables it. */
  cleanupIntervalSeconds: number;
  /** Rows per DELETE statement of the cleanup. */
  cleanupBatchSize: number;
  /** The cleanup deletes audit events older than this many days; 0 keeps the audit trail for ever. */
  auditRetentionDays: number;
  /**
   * Built-in HTTPS: the PEM certificate (chain) and private key, read from the files named by
   * --tls-cert/--tls-key, GATEHOUSE_TLS_CERT/GATEHOUSE_TLS_KEY or tls_cert/tls_key. Null: plain
   * HTTP (development on loopback, or behind a TLS-terminating proxy).
   */
  tls: { cert: string; key: string; certFile: string; keyFile: string } | null;
  /**
   * Deployments behind a TLS terminator or load balancer: honour X-Forwarded-For/-Proto/-Host
   * from these proxies (true: any; a number: that many hops; a string: comma-separated
   * addresses or CIDR ranges). False: the headers are ignored.
   */
  trustProxy: boolean | number | string;
  /**
   * Explicit override of RFC 8414 §2: accept a plain http issuer on a host that is not loopback
   * (a private test network). Logged as a warning at every start.
   */
  allowHttpIssuer: boolean;
  /**
   * Development help on the error pages of refused authorization requests: the client's
   * registered redirect URIs and the received redirect_uri set side by side with the closest
   * one. `auto`: only when the issuer is on a loopback host (development); `always`/`never`
   * force it. When off, the page shows a request id and the log holds the comparison.
   */
  explainErrors: ExplainErrors;
  /**
   * Brute-force limits (src/core/limits/attempt-limits.ts): sign-in attempts per (username, address), per
   * address, per username (browsers without a device cookie for it, delays only by default) and
   * per device cookie; failed client authentications (token, revocation, introspection) per
   * (client_id, address) and per address.
   */
  limits: {
    loginUserAddress: AttemptLimit;
    loginUsername: AttemptLimit;
    loginIp: AttemptLimit;
    loginDevice: AttemptLimit;
    clientId: AttemptLimit;
    clientIp: AttemptLimit;
    /**
     * Interactions (sign-in pages) started per client IP address and not finished: each one is
     * a database row until it expires, and starting one needs no credentials.
     */
    interactionIp: AttemptLimit;
    /** RFC 8628 §5.1: user codes entered at the verification page that match no device code, per address. */
    userCodeIp: AttemptLimit;
    /** RFC 8628 §5.1: the same, all addresses together (guessing spread over many addresses). */
    userCodeGlobal: AttemptLimit;
    /** RFC 7591: client registrations (POST /register) per address, every one counted. */
    registrationIp: AttemptLimit;
  };
  /**
   * At most this many unexpired interactions in the database, all addresses together; beyond
   * it, new ones are refused (503) until enough have finished or expired.
   */
  maxLiveInteractions: number;
  /**
   * HTTP server limits (Node's http.Server): the whole request must arrive within
   * requestTimeoutMs and its headers within headersTimeoutMs (else 408 and the connection is
   * closed); an idle keep-alive connection is closed after keepAliveTimeoutMs, any connection
   * without traffic after connectionTimeoutMs; connections beyond maxConnections are refused.
   */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connectionTimeoutMs: number;
  maxConnections: number;
  /**
   * Dynamic client registration (RFC 7591, RFC 7592; src/core/registration/registration-endpoint.ts):
   * off, open to anyone, or with an initial access token; what a self-registered client may ask
   * for (scopes, resources, redirect URIs), and when an unused one is deleted.
   */
  registration: {
    mode: RegistrationMode;
    allowedScopes: string[];
    allowedResources: string[];
    maxRedirectUris: number;
    abandonedAfterSeconds: number;
  };
  /** The pages' branding (src/ui/branding.ts); file paths are absolute once resolved. None: Gatehouse's own. */
  branding?: BrandingSettings | undefined;
  /**
   * The languages the pages are offered in, the fallback first (src/core/browser/page-language.ts);
   * none: every shipped language, English first (PAGE_LANGUAGES_DEFAULT).
   */
  languages?: string[] | undefined;
  /**
   * The admin REST API (src/http/routes/admin/): served when enabled, under `/admin/v1` of the
   * main listener, or on a listener of its own at `listen` (`host:port`).
   */
  admin: {
    enabled: boolean;
    listen?: string | undefined;
  };
  /** The web console (src/http/routes/console/): served when enabled; absent, when the admin API is (consoleEnabled). */
  console?: { enabled?: boolean | undefined } | undefined;
  /** Fixtures applied idempotently at start. */
  clients: ClientFixture[];
  users: UserFixture[];
  resources: ResourceFixture[];
}

/** The settings that have a default (the issuer's depends on the port, the others have none). */
type DefaultedSetting = Exclude<
  keyof GatehouseSettings,
  'issuer' | 'secret' | 'metricsToken' | 'clients' | 'users' | 'resources'
>;

/** The defaults, from the schema (src/config/settings-schema.ts: each setting's `default`). */
export const DEFAULT_SETTINGS: Readonly<Pick<GatehouseSettings, DefaultedSetting>> = (() => {
  const defaults: Record<string, unknown> = { tls: null };
  for (const { meta } of SETTINGS) {
    if (meta.default === undefined) continue;
    const parts = meta.setting.split('.');
    let target = defaults;
    for (const part of parts.slice(0, -1)) {
      target[part] ??= {};
      target = target[part] as Record<string, unknown>;
    }
    target[parts.at(-1)!] = meta.default;
  }
  return defaults as unknown as Pick<GatehouseSettings, DefaultedSetting>;
})();

// ---- Compile-time: every setting of GatehouseSettings has its schema entry, and no schema entry names another. ----

/** Dotted paths of the leaves of a settings object (arrays and fixture lists are leaves). */
type LeafPaths<T, Prefix extends string = ''> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends readonly unknown[] | string | number | boolean
    ? `${Prefix}${K}`
    : LeafPaths<NonNullable<T[K]>, `${Prefix}${K}.`>;
}[keyof T & string];
/** Not config keys: the fixture lists (validated by load-config.ts) and the PEM texts read from tls_cert/tls_key. */
type DerivedSetting = 'clients' | 'users' | 'resources' | 'tls.cert' | 'tls.key';
type Never<T extends never> = T;
export type SettingWithoutSchemaEntry = Never<
  Exclude<LeafPaths<GatehouseSettings>, SchemaSettingPath | DerivedSetting>
>;
export type SchemaEntryWithoutSetting = Never<Exclude<SchemaSettingPath, LeafPaths<GatehouseSettings>>>;
