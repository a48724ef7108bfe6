/**
 * The resolved settings of one Gatehouse instance. Built by src/config/resolve-settings.ts from
 * (in order of precedence) CLI flags, environment variables, the config file and defaults.
 */
import type { TokenEndpointAuthMethod } from '../store/store.js';

export interface ClientFixture {
  client_id: string;
  /** When absent for a confidential client, the client cannot authenticate until one is set. */
  client_secret?: string;
  client_name?: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  scope: string;
  require_pkce: boolean;
  /** OpenID Connect Dynamic Client Registration §2; absent: id_token_signed_response_alg_default (RS256). */
  id_token_signed_response_alg?: 'ES256' | 'RS256';
  /** Profile, email, address and phone claims granted by scope also in the ID token; absent: id_token_claims_default. */
  id_token_claims?: boolean;
  /** OpenID Connect Core §8; absent: public. */
  subject_type?: 'public' | 'pairwise';
  /** OpenID Connect RP-Initiated Logout 1.0 §3.1; absent: none. */
  post_logout_redirect_uris?: string[];
  /** OpenID Connect Back-Channel Logout 1.0 §2.2; absent: no back-channel logout. */
  backchannel_logout_uri?: string;
  backchannel_logout_session_required?: boolean;
}

/** A user, with the OpenID Connect Core §5.1 standard claims Gatehouse keeps. */
export interface UserFixture {
  username: string;
  password: string;
  email?: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  email_verified?: boolean;
  phone_number?: string;
  phone_number_verified?: boolean;
  /** OIDC Core §5.1.1 address members (formatted, street_address, locality, region, postal_code, country). */
  address?: Record<string, string>;
}

/** A protected resource (RFC 8707 resource indicator) declared in the config file. */
export interface ResourceFixture {
  /** The resource indicator: an absolute URI without fragment. */
  resource: string;
  name?: string;
  scopes: string[];
  /** Client ids (the resource server's own credentials) allowed to introspect its tokens. */
  introspection_client_ids: string[];
}

/** One brute-force limit (src/core/limits.ts); config file keys in snake_case. */
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

/** The values of `explain_errors`. */
export const EXPLAIN_ERRORS_MODES = ['auto', 'always', 'never'] as const;
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
   * The bearer token that unlocks GET /metrics (Prometheus). Unset: /metrics is disabled, so
   * the main port never exposes metrics to the public by default.
   */
  metricsToken?: string | undefined;
  /**
   * How long an instance may use its cached copy of a client or a protected resource (0: no cache). Changes made on
   * PostgreSQL reach every instance sooner, through LISTEN/NOTIFY; this is the upper bound.
   */
  clientCacheTtlSeconds: number;
  /** How often each instance deletes expired rows (src/core/cleanup.ts); 0 disables it. */
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
   * Brute-force limits (src/core/limits.ts): sign-in attempts per (username, address), per
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
  /** Fixtures applied idempotently at start. */
  clients: ClientFixture[];
  users: UserFixture[];
  resources: ResourceFixture[];
}

export const DEFAULT_SETTINGS = {
  port: 9001,
  host: 'localhost',
  databaseUrl: 'sqlite:./gatehouse.db',
  signingAlg: 'ES256',
  idTokenSignedResponseAlgDefault: 'RS256',
  idTokenClaimsDefault: true,
  codeTtlSeconds: 60,
  accessTokenTtlSeconds: 3600,
  sessionTtlSeconds: 8 * 3600,
  deviceCookieTtlSeconds: 180 * 86400,
  interactionTtlSeconds: 600,
  refreshTokenIdleTtlSeconds: 14 * 24 * 3600,
  refreshTokenAbsoluteTtlSeconds: 90 * 24 * 3600,
  refreshTokenGraceSeconds: 10,
  // Twice the JWKS max-age (300 s); also jose's default JWKS cache age (createRemoteJWKSet, 10 min).
  keyActivationDelaySeconds: 600,
  // 1 s, 2 s, 4 s, ... then every 5 minutes: about 300 attempts make a day.
  backchannelLogoutMaxAttempts: 300,
  backchannelLogoutMaxAgeSeconds: 24 * 3600,
  backchannelLogoutBackoffInitialMs: 1000,
  backchannelLogoutBackoffMaxMs: 5 * 60 * 1000,
  backchannelLogoutTimeoutMs: 5000,
  outboundAllowPrivateAddresses: false,
  outboundMaxResponseBytes: 64 * 1024,
  clientCacheTtlSeconds: 5,
  cleanupIntervalSeconds: 60,
  cleanupBatchSize: 500,
  auditRetentionDays: 90,
  tls: null,
  trustProxy: false,
  allowHttpIssuer: false,
  explainErrors: 'auto',
  // OWASP Authentication Cheat Sheet: a lock per username alone lets anyone lock any account.
  // Per (username, address): 5 free attempts, then 1 s, 2 s, 4 s, 8 s; the 10th failure locks
  // that address out of that account for 15 min. Per IP address the allowance is larger: many
  // users may share one address (NAT, proxies). Per username (only browsers without a device
  // cookie for it, i.e. a guessing attack spread over many addresses): delays only, doubling up
  // to 60 s and never longer, so no one can lock the account. Per device cookie: its own run.
  // Client secrets are machine-held, so failures mean misconfiguration or guessing; they are
  // counted per (client_id, address), since a client_id is public (RFC 6749 §2.2).
  limits: {
    loginUserAddress: { freeAttempts: 5, backoffBaseMs: 1000, lockAfter: 10, lockSeconds: 900 },
    loginUsername: { freeAttempts: 50, backoffBaseMs: 1000, lockAfter: 100, lockSeconds: 60 },
    loginIp: { freeAttempts: 20, backoffBaseMs: 1000, lockAfter: 100, lockSeconds: 900 },
    loginDevice: { freeAttempts: 5, backoffBaseMs: 1000, lockAfter: 10, lockSeconds: 900 },
    clientId: { freeAttempts: 5, backoffBaseMs: 1000, lockAfter: 20, lockSeconds: 300 },
    clientIp: { freeAttempts: 20, backoffBaseMs: 1000, lockAfter: 100, lockSeconds: 300 },
    // 300 unfinished interactions per address are free (a busy NAT finishes most of its own; a
    // finished one is taken back), then 1 s, 2 s, ... between new ones; the 400th locks the
    // address for the interaction lifetime, so its rows expire before it may start new ones.
    interactionIp: { freeAttempts: 300, backoffBaseMs: 1000, lockAfter: 400, lockSeconds: 600 },
  },
  // A row is under 2 KiB with the value caps (state, nonce, login_hint): at most about 200 MB.
  maxLiveInteractions: 100_000,
  // Node's own defaults are 300 s per request and 60 s for the headers, and Fastify turns the
  // request limit off; an authorization server's requests are small forms, sent at once.
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  connectionTimeoutMs: 60_000,
  maxConnections: 10_000,
} as const satisfies Partial<GatehouseSettings>;
