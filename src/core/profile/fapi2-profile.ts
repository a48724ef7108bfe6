/**
 * The FAPI 2.0 Security Profile (OpenID Foundation, final, February 2025) as one switch: the
 * server's `profile: fapi2` setting holds every client to it, the client metadata
 * `profile: fapi2` one client. Its rules for an authorization server are listed here once, each
 * with its section, and read by registration (src/core/registration/profile-metadata.ts refuses a
 * fapi2 client that breaks one), by the request-time checks (the helpers below, called from the
 * authorization, PAR and token endpoints), by `gatehouse doctor` (src/core/doctor/) and by the
 * warning `gatehouse start` logs.
 *
 * Rules Gatehouse meets for every client, so they need no check per client:
 * - §5.3.2.2 `iss` in the authorization response (RFC 9207): codeResponse and errorResponse
 *   (src/core/authorize/authorization-response.ts) always add it; discovery says so.
 * - §5.3.2.1 no open redirectors: an unregistered redirect_uri is an error page, never a redirect
 *   (src/core/authorize/authorization-request.ts, RFC 9700 §4.11).
 * - §5.3.2.1 no resource owner password credentials grant, no implicit grant: not supported.
 * - §5.3.2.1 refresh token rotation: the profile "shall not use refresh token rotation unless, in
 *   the case a response with a new refresh token is not received and stored by the client,
 *   retrying the request (with the previous refresh token) will succeed". Gatehouse rotates every
 *   refresh token (src/core/token/refresh-token-family.ts), for fapi2 clients too, and keeps the
 *   previous one usable for `refresh_token_grace_seconds` (default 10): that retry window is what
 *   the clause asks of a server that rotates, so rotation stays (RFC 9700 §4.14.2 recommends it,
 *   and one refresh path is simpler than two) and the rule `refresh-rotation-retry` below requires
 *   the window to be open (the server-wide `profile: fapi2` refuses
 *   `refresh_token_grace_seconds: 0`). See docs/high-security-clients.md, "FAPI 2.0".
 */
import { FAPI2_MAX_CODE_TTL_SECONDS } from '../../config/schema/token-settings.js';
import type { GatehouseSettings } from '../../config/settings.js';
import type { Client } from '../../store/store.js';

/** FAPI 2.0 Security Profile §5.4.1: the only JWS algorithms (PS256, ES256, EdDSA with Ed25519). */
export const FAPI2_SIGNING_ALGS: readonly string[] = ['PS256', 'ES256', 'EdDSA'];

/** FAPI 2.0 Security Profile §5.3.2.1: an authorization code lives at most 60 seconds. */
export const FAPI2_MAX_CODE_AGE_SECONDS = FAPI2_MAX_CODE_TTL_SECONDS;

/** The section a rule comes from, as error messages and the doctor cite it. */
export type Fapi2Section = `FAPI 2.0 §${string}`;

/** What the rules read of a client: its registration (stored, or metadata being validated). */
export interface Fapi2Subject {
  tokenEndpointAuthMethod: Client['tokenEndpointAuthMethod'];
  /** Whether it registered public keys (jwks or jwks_uri). */
  hasKeys: boolean;
  requirePkce: boolean;
  dpopBoundAccessTokens: boolean;
  requirePushedAuthorizationRequests: boolean;
  responseTypes: readonly string[];
  tokenEndpointAuthSigningAlg: string | null;
  idTokenSignedResponseAlg: string | null;
  /** The server's code_ttl_seconds, when known (not at registration). */
  codeTtlSeconds?: number;
  /** The server's refresh_token_grace_seconds, when known (not at registration). */
  refreshTokenGraceSeconds?: number;
}

export interface Fapi2Rule {
  /** A stable name, used in `--json` output and test names. */
  id: string;
  section: Fapi2Section;
  /** What the profile requires, in one line. */
  rule: string;
  /** The client metadata field that decides it (the setting for codeTtlSeconds). */
  field: string;
  /** How the client breaks the rule, or undefined when it meets it. */
  broken(client: Fapi2Subject): string | undefined;
  /** The config line that makes a client meet the rule. */
  fix: string;
}

export const FAPI2_RULES: readonly Fapi2Rule[] = [
  {
    id: 'private-key-jwt',
    section: 'FAPI 2.0 §5.3.2.1',
    rule: 'only confidential clients, authenticated with private_key_jwt (or mTLS): no client secrets, no client_secret_jwt',
    field: 'token_endpoint_auth_method',
    broken: (client) =>
      client.tokenEndpointAuthMethod === 'private_key_jwt'
        ? undefined
        : `token_endpoint_auth_method is ${client.tokenEndpointAuthMethod}, but only private_key_jwt is allowed`,
    fix: 'token_endpoint_auth_method: private_key_jwt, with the public keys in jwks or jwks_uri',
  },
  {
    id: 'client-keys',
    section: 'FAPI 2.0 §5.3.2.1',
    rule: 'private_key_jwt needs the public keys of the client (jwks or jwks_uri)',
    field: 'jwks',
    broken: (client) => (client.hasKeys ? undefined : 'neither jwks nor jwks_uri is registered'),
    fix: 'jwks: { keys: [ <public JWK> ] } or jwks_uri: https://client.example/jwks.json',
  },
  {
    id: 'pushed-authorization-requests',
    section: 'FAPI 2.0 §5.3.2.2',
    rule: 'authorization requests only through pushed authorization requests (RFC 9126)',
    field: 'require_pushed_authorization_requests',
    broken: (client) =>
      client.requirePushedAuthorizationRequests ? undefined : 'authorization requests may skip the PAR endpoint',
    fix: 'require_pushed_authorization_requests: true',
  },
  {
    id: 'pkce-s256',
    section: 'FAPI 2.0 §5.3.2.2',
    rule: 'PKCE with the S256 code challenge method (RFC 7636)',
    field: 'require_pkce',
    broken: (client) => (client.requirePkce ? undefined : 'require_pkce is false'),
    fix: 'require_pkce: true (or remove require_pkce: false)',
  },
  {
    id: 'sender-constrained-tokens',
    section: 'FAPI 2.0 §5.3.2.1',
    rule: 'only sender-constrained access tokens (DPoP, RFC 9449)',
    field: 'dpop_bound_access_tokens',
    broken: (client) =>
      client.dpopBoundAccessTokens ? undefined : 'bearer access tokens are issued (dpop_bound_access_tokens is false)',
    fix: 'dpop_bound_access_tokens: true',
  },
  {
    id: 'response-type-code',
    section: 'FAPI 2.0 §5.3.2.2',
    rule: 'only the response type code',
    field: 'response_types',
    broken: (client) => {
      const other = client.responseTypes.filter((type) => type !== 'code');
      return other.length === 0 ? undefined : `response_types include ${other.join(', ')}`;
    },
    fix: 'response_types: [code]',
  },
  {
    id: 'assertion-algorithm',
    section: 'FAPI 2.0 §5.4.1',
    rule: `client assertions signed with ${FAPI2_SIGNING_ALGS.join(', ')} only`,
    field: 'token_endpoint_auth_signing_alg',
    broken: (client) =>
      client.tokenEndpointAuthSigningAlg === null || FAPI2_SIGNING_ALGS.includes(client.tokenEndpointAuthSigningAlg)
        ? undefined
        : `token_endpoint_auth_signing_alg is ${client.tokenEndpointAuthSigningAlg}`,
    fix: 'token_endpoint_auth_signing_alg: ES256 (or PS256, EdDSA; or leave it unset)',
  },
  {
    id: 'id-token-algorithm',
    section: 'FAPI 2.0 §5.4.1',
    rule: `ID tokens signed with ${FAPI2_SIGNING_ALGS.join(', ')} only`,
    field: 'id_token_signed_response_alg',
    broken: (client) =>
      client.idTokenSignedResponseAlg === null || FAPI2_SIGNING_ALGS.includes(client.idTokenSignedResponseAlg)
        ? undefined
        : `id_token_signed_response_alg is ${client.idTokenSignedResponseAlg}`,
    fix: 'id_token_signed_response_alg: ES256 (or leave it unset: a fapi2 client gets ES256)',
  },
  {
    id: 'code-lifetime',
    section: 'FAPI 2.0 §5.3.2.1',
    rule: `authorization codes live at most ${FAPI2_MAX_CODE_AGE_SECONDS} seconds`,
    field: 'code_ttl_seconds',
    broken: (client) =>
      client.codeTtlSeconds === undefined || client.codeTtlSeconds <= FAPI2_MAX_CODE_AGE_SECONDS
        ? undefined
        : `code_ttl_seconds is ${client.codeTtlSeconds} (the codes of a fapi2 client are refused after ${FAPI2_MAX_CODE_AGE_SECONDS} s all the same)`,
    fix: `code_ttl_seconds: ${FAPI2_MAX_CODE_AGE_SECONDS} (a server setting)`,
  },
  {
    id: 'refresh-rotation-retry',
    section: 'FAPI 2.0 §5.3.2.1',
    rule: 'refresh tokens are rotated only if a retry with the previous refresh token succeeds',
    field: 'refresh_token_grace_seconds',
    broken: (client) =>
      client.refreshTokenGraceSeconds === 0
        ? 'refresh_token_grace_seconds is 0: a client that lost the response of a refresh cannot retry'
        : undefined,
    fix: 'refresh_token_grace_seconds: 10 (a server setting; any value above 0)',
  },
];

/** A rule a client breaks, and how. */
export interface Fapi2Violation {
  rule: Fapi2Rule;
  problem: string;
}

/** The rules `client` breaks, in the order of FAPI2_RULES. */
export function fapi2Violations(client: Fapi2Subject): Fapi2Violation[] {
  return FAPI2_RULES.flatMap((rule) => {
    const problem = rule.broken(client);
    return problem === undefined ? [] : [{ rule, problem }];
  });
}

export type ProfileSettings = Pick<GatehouseSettings, 'profile'>;
/** The server settings the rules read besides the profile. */
export type ProfileServerSettings = Pick<
  GatehouseSettings,
  'requirePushedAuthorizationRequests' | 'codeTtlSeconds' | 'refreshTokenGraceSeconds'
>;

/** Whether `client` is held to the FAPI 2.0 Security Profile: its own choice, or the server's. */
export function usesFapi2(client: Pick<Client, 'profile'>, settings: ProfileSettings): boolean {
  return client.profile === 'fapi2' || settings.profile === 'fapi2';
}

/**
 * A stored client as the rules see it, with what the server enforces for it besides its own
 * registration: PAR required server-wide (RFC 9126 §5), and the profile itself where it is on
 * (then PAR, PKCE and DPoP are enforced at request time whatever the flags say).
 */
export function fapi2SubjectOf(client: Client, settings: ProfileSettings & ProfileServerSettings): Fapi2Subject {
  const enforced = usesFapi2(client, settings);
  return {
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
    hasKeys: client.jwks !== null || client.jwksUri !== null,
    requirePkce: client.requirePkce || enforced,
    dpopBoundAccessTokens: client.dpopBoundAccessTokens || enforced,
    requirePushedAuthorizationRequests:
      client.requirePushedAuthorizationRequests || settings.requirePushedAuthorizationRequests || enforced,
    responseTypes: client.responseTypes,
    tokenEndpointAuthSigningAlg: client.tokenEndpointAuthSigningAlg,
    idTokenSignedResponseAlg: client.idTokenSignedResponseAlg,
    codeTtlSeconds: settings.codeTtlSeconds,
    refreshTokenGraceSeconds: settings.refreshTokenGraceSeconds,
  };
}

/**
 * FAPI 2.0 Security Profile §5.4.1 for the ID tokens of a fapi2 client: RS256 (the default of
 * OpenID Connect Dynamic Client Registration §2) becomes ES256, which the key ring always holds.
 */
export function fapi2IdTokenAlg<A extends string>(alg: A): A | 'ES256' {
  return FAPI2_SIGNING_ALGS.includes(alg) ? alg : 'ES256';
}

/** Whether a code issued at `issuedAt` is too old for a fapi2 client at `now` (§5.3.2.1). */
export function fapi2CodeTooOld(issuedAt: number, now: number): boolean {
  return now - issuedAt > FAPI2_MAX_CODE_AGE_SECONDS * 1000;
}

/**
 * The one-line warnings `gatehouse start` logs: one per client held to the profile (its own
 * `profile: fapi2`, or every client under the server's) whose registration breaks a rule. Such a
 * client is refused at request time wherever the rule is enforced there.
 */
export function fapi2StartupWarnings(
  clients: readonly Client[],
  settings: ProfileSettings & ProfileServerSettings,
): string[] {
  return clients.flatMap((client) => {
    if (!usesFapi2(client, settings)) return [];
    const violations = fapi2Violations(fapi2SubjectOf(client, settings));
    if (violations.length === 0) return [];
    const broken = violations.map(({ rule, problem }) => `${rule.section} ${rule.id}: ${problem}`).join('; ');
    return [`client ${client.clientId} breaks the FAPI 2.0 Security Profile: ${broken} (see gatehouse doctor)`];
  });
}
