/**
 * Client authentication with a JWT assertion: RFC 7523 §2.2 (the JWT Bearer profile of RFC 7521
 * §4.2), as OpenID Connect Core §9 names its two methods: `private_key_jwt` (signed with the
 * client's private key; its public keys are registered as `jwks` or published at `jwks_uri`) and
 * `client_secret_jwt` (an HMAC with the client secret).
 *
 * The checks of RFC 7523 §3, in order: the algorithm is one the server supports for the method
 * (never `none`; HMAC only for client_secret_jwt, so a public key can never serve as an HMAC key,
 * RFC 8725 §2.1) and the client's registered `token_endpoint_auth_signing_alg` if any; the
 * signature; `iss` = `sub` = client_id (items 1, 2); `aud` names this server (item 3, see
 * acceptedAudiences); `exp` present and not past (item 4), and not further ahead than
 * client_assertion_max_lifetime_seconds; `nbf` and `iat` not in the future (items 5, 6), with
 * CLOCK_SKEW_SECONDS of tolerance; `jti` present and never seen before for this client until
 * the assertion's `exp` (item 7, the replay store shared by every instance).
 *
 * Until the signature has been checked every failure reads as the uniform
 * CLIENT_AUTHENTICATION_FAILED (no client enumeration); after it, the caller holds the client's
 * key, so the failed claim check is named in `error_description` (RFC 7521 §4.2.1 allows it).
 */
import {
  decodeJwt,
  decodeProtectedHeader,
  createLocalJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JSONWebKeySet,
} from 'jose';
import type { Client, Store } from '../../store/store.js';
import { ENDPOINT_PATHS, type ProviderContext } from '../context.js';
import { InvalidClient, InvalidRequest } from '../errors.js';
import type { Params } from '../params.js';
import { ASSERTION_SIGNING_ALGS, type AssertionAuthMethod } from '../registration/client-metadata-fields.js';
import { openClientSecret } from './client-secret-seal.js';
import { ClientJwksUnavailable, type ClientJwksCache } from './client-jwks.js';

/** RFC 7523 §2.2: the one `client_assertion_type` this profile defines. */
export const JWT_BEARER_CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** RFC 7523 §3 items 4-6: "a small leeway ... to account for clock skew". */
export const CLOCK_SKEW_SECONDS = 30;
/** The replay store's purpose for client assertion ids. */
export const CLIENT_ASSERTION_REPLAY_PURPOSE = 'client_assertion';

/** An assertion read from a request, not yet verified. */
export interface ClientAssertion {
  /** private_key_jwt or client_secret_jwt, by the assertion's algorithm. */
  method: AssertionAuthMethod;
  clientId: string;
  alg: string;
  kid: string | undefined;
  jwt: string;
}

/** A failure after the signature was verified: the description names the check. */
const disclosed = (reason: string) => new InvalidClient(reason, { usedBasic: false, disclose: true });
const refused = (reason: string) => new InvalidClient(reason, { usedBasic: false });

/**
 * RFC 7521 §4.2: `client_assertion_type` and `client_assertion`, or undefined when neither is
 * present. The client is the assertion's `sub` (RFC 7523 §3 item 2), which must equal its `iss`
 * (§2.2) and the `client_id` parameter when one is sent (RFC 7521 §4.2).
 */
export function readClientAssertion(params: Params): ClientAssertion | undefined {
  const type = params.get('client_assertion_type');
  const jwt = params.get('client_assertion');
  if (type === undefined && jwt === undefined) return undefined;
  if (type === undefined)
    throw new InvalidRequest('client_assertion_type is required with client_assertion (RFC 7521 §4.2)');
  if (jwt === undefined)
    throw new InvalidRequest('client_assertion is required with client_assertion_type (RFC 7521 §4.2)');
  if (type !== JWT_BEARER_CLIENT_ASSERTION_TYPE) {
    throw disclosed(`client_assertion_type must be ${JWT_BEARER_CLIENT_ASSERTION_TYPE} (RFC 7523 §2.2)`);
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(jwt);
    payload = decodeJwt(jwt);
  } catch {
    throw disclosed('client_assertion is not a signed JWT (RFC 7523 §2.2)');
  }
  const alg = header.alg;
  const method = (Object.keys(ASSERTION_SIGNING_ALGS) as AssertionAuthMethod[]).find((candidate) =>
    (ASSERTION_SIGNING_ALGS[candidate] as readonly string[]).includes(alg ?? ''),
  );
  if (method === undefined) {
    throw disclosed(
      `client_assertion alg ${JSON.stringify(alg ?? null)} is not allowed; see token_endpoint_auth_signing_alg_values_supported (never none)`,
    );
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw disclosed('client_assertion sub must be the client_id (RFC 7523 §3 item 2)');
  }
  if (payload.iss !== payload.sub) {
    throw disclosed('client_assertion iss must equal sub, the client_id (RFC 7523 §2.2, §3 item 1)');
  }
  const clientId = params.get('client_id');
  if (clientId !== undefined && clientId !== payload.sub) {
    throw disclosed('client_id differs from the sub of client_assertion (RFC 7521 §4.2)');
  }
  return {
    method,
    clientId: payload.sub,
    alg: alg!,
    kid: typeof header.kid === 'string' ? header.kid : undefined,
    jwt,
  };
}

/** What verifying an assertion uses: the settings (issuer, lifetime, secret), the clock, the client key cache and the replay store. */
export type ClientAssertionDeps = Pick<ProviderContext, 'settings' | 'now' | 'clientKeys'> & {
  store: Pick<Store, 'usedJtis'>;
};

/**
 * RFC 7523 §3 item 3: the `aud` values accepted. The issuer identifier (what RFC 7523 §3 and
 * RFC 9700 §2.5 recommend; FAPI 2.0 requires it), and for compatibility the token endpoint URL
 * (OpenID Connect Core §9 names it) and the URL of the endpoint being called.
 */
export function acceptedAudiences(issuer: string, endpointPath: string | undefined): string[] {
  const audiences = [issuer, issuer + ENDPOINT_PATHS.token];
  if (endpointPath !== undefined && endpointPath !== ENDPOINT_PATHS.token) audiences.push(issuer + endpointPath);
  return audiences;
}

/** Verifies `assertion` for `client` (whose registered method it was found to use). */
export async function verifyClientAssertion(
  assertion: ClientAssertion,
  client: Client,
  endpointPath: string | undefined,
  context: ClientAssertionDeps,
): Promise<void> {
  const registeredAlg = client.tokenEndpointAuthSigningAlg;
  if (registeredAlg !== null && registeredAlg !== assertion.alg) {
    throw disclosed(
      `client_assertion must be signed with ${registeredAlg}, the client's token_endpoint_auth_signing_alg`,
    );
  }
  const { settings } = context;
  const now = context.now();
  const options = {
    algorithms: [assertion.alg],
    issuer: client.clientId,
    subject: client.clientId,
    audience: acceptedAudiences(settings.issuer, endpointPath),
    requiredClaims: ['exp', 'jti'],
    clockTolerance: CLOCK_SKEW_SECONDS,
    currentDate: new Date(now),
  };
  let payload: JWTPayload;
  try {
    if (assertion.method === 'client_secret_jwt') {
      if (client.clientSecretSealed === null) throw refused('client_secret_jwt client has no sealed secret');
      const key = await openClientSecret(client.clientSecretSealed, settings.secret).catch(() => {
        throw refused('the sealed client secret does not open with this GATEHOUSE_SECRET');
      });
      ({ payload } = await jwtVerify(assertion.jwt, key, options));
    } else {
      payload = await verifyWithClientKeys(
        async (keySet) => (await jwtVerify(assertion.jwt, keySet, options)).payload,
        client,
        context.clientKeys,
      );
    }
  } catch (error) {
    throw assertionError(error);
  }
  // RFC 7523 §3 item 4: "The authorization server MAY reject JWTs with an "exp" claim value that
  // is unreasonably far in the future."
  const maxLifetime = settings.clientAssertionMaxLifetimeSeconds;
  const nowSeconds = Math.floor(now / 1000);
  if (payload.exp! > nowSeconds + maxLifetime + CLOCK_SKEW_SECONDS) {
    throw disclosed(
      `client_assertion exp is more than ${maxLifetime} seconds ahead (RFC 7523 §3 item 4); make assertions short-lived`,
    );
  }
  // RFC 7523 §3 item 6: iat, when present, is a time already passed.
  if (payload.iat !== undefined && payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) {
    throw disclosed('client_assertion iat is in the future (RFC 7523 §3 item 6)');
  }
  if (typeof payload.jti !== 'string' || payload.jti === '') {
    throw disclosed('client_assertion jti must be a non-empty string (RFC 7523 §3 item 7)');
  }
  // RFC 7523 §3 item 7: single use until exp, across every instance (one per client: jti values
  // are unique per issuer).
  const first = await context.store.usedJtis.markUsed(
    CLIENT_ASSERTION_REPLAY_PURPOSE,
    `${client.clientId}\u0000${payload.jti}`,
    (payload.exp! + CLOCK_SKEW_SECONDS) * 1000,
    now,
  );
  if (!first) throw disclosed('client_assertion jti was used before: an assertion is single-use (RFC 7523 §3 item 7)');
}

/**
 * RFC 7523 §2.2 (and RFC 9101 §6.2 for request objects): `verify` run with the client's public
 * keys (jwks, or jwks_uri fetched again once for an unknown kid).
 */
export async function verifyWithClientKeys<T>(
  verify: (keySet: ReturnType<typeof createLocalJWKSet>) => Promise<T>,
  client: Client,
  keys: ClientJwksCache,
): Promise<T> {
  const verifyWith = (set: { keys: Array<Record<string, unknown>> }) => verify(createLocalJWKSet(set as JSONWebKeySet));
  if (client.jwks !== null) return verifyWith(client.jwks);
  if (client.jwksUri === null) throw refused('the client has neither jwks nor jwks_uri');
  try {
    return await verifyWith(await keys.keys(client.jwksUri));
  } catch (error) {
    // A key the cached set lacks: the client may have rotated its key (fetched again, rate-limited).
    if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
    return verifyWith(await keys.keys(client.jwksUri, { unknownKid: true }));
  }
}

/** An InvalidClient for a failure of jwtVerify, disclosed once the signature was verified. */
function assertionError(error: unknown): unknown {
  if (error instanceof InvalidClient) return error;
  if (error instanceof ClientJwksUnavailable) return refused(error.message);
  if (error instanceof joseErrors.JWTExpired) return disclosed('client_assertion has expired (RFC 7523 §3 item 4)');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const item = { iss: 1, sub: 2, aud: 3, exp: 4, nbf: 5, iat: 6, jti: 7 }[error.claim];
    return disclosed(
      `client_assertion ${error.claim} is invalid: ${error.reason === 'missing' ? 'missing' : error.message}${item !== undefined ? ` (RFC 7523 §3 item ${item})` : ''}`,
    );
  }
  if (error instanceof joseErrors.JOSEError) return refused(`client_assertion not verified: ${error.message}`);
  return error;
}
