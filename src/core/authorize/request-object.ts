/**
 * Signed request objects, RFC 9101 (JAR): an authorization request sent as a JWT signed with
 * the client's key, by value in the `request` parameter, at the authorization endpoint or the
 * PAR endpoint (RFC 9126 §3). By reference (`request_uri`) only as Gatehouse's own pushed
 * request URNs (./pushed-request-uri.ts); any other request_uri stays refused.
 *
 * Two stages, because what the End-User's browser may be sent depends on them:
 * - until the signature by one of the client's keys has verified, nothing in the object can be
 *   trusted, its redirect_uri least of all: a failure is UntrustedRequestObject (an error page
 *   at the authorization endpoint, invalid_request_object to the client at the PAR endpoint);
 * - after it, the client made the object, so a claim that fails its check (§4, §6.3: iss, aud,
 *   exp, nbf, iat, jti, client_id) is an InvalidRequestObject `refusal` that the authorization
 *   endpoint sends to the object's redirect_uri once that is validated (RFC 9101 §6.3, §7).
 *
 * The parameters are the object's claims and the outer `client_id` only (§5, §6.3: "MUST only
 * use the parameters in the Request Object"). Each object is single-use: its `jti` is recorded
 * until its `exp` in the replay store every instance shares.
 */
import { compactVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import type { Client, Store } from '../../store/store.js';
import { CLOCK_SKEW_SECONDS, verifyWithClientKeys } from '../clients/client-assertion.js';
import { ClientJwksUnavailable } from '../clients/client-jwks.js';
import type { ProviderContext } from '../context.js';
import { InvalidClient, InvalidRequestObject, OAuthError, UntrustedRequestObject } from '../errors.js';
import { Params } from '../params.js';
import { REQUEST_OBJECT_SIGNING_ALGS } from '../registration/client-metadata-fields.js';
import { resolveClient } from './authorization-request.js';

/** The replay store's purpose for request object ids. */
export const REQUEST_OBJECT_REPLAY_PURPOSE = 'request_object';

/**
 * RFC 9101 §10.8 (cross-JWT confusion): `typ`, when present, must say this is a request object
 * (`oauth-authz-req+jwt`, §4), or be the generic `JWT` older clients send; anything else (a
 * DPoP proof, a logout token) is some other JWT.
 */
const ACCEPTED_TYPES = new Set(['oauth-authz-req+jwt', 'application/oauth-authz-req+jwt', 'jwt']);

/** RFC 7519 §4.1: JWT claims that are not authorization request parameters. */
const JWT_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sub']);

/** What reading a request object uses: the issuer, the lifetime bound, the clock, the client keys and the replay store. */
export type RequestObjectDeps = Pick<ProviderContext, 'settings' | 'now' | 'clientKeys'> & {
  store: Pick<Store, 'usedJtis'>;
};

export interface RequestObjectParameters {
  /** The authorization request: the outer client_id and the object's parameters (§6.3). */
  params: Params;
  /** A check of the signed object's claims that failed: to be sent to its validated redirect_uri. */
  refusal: InvalidRequestObject | undefined;
}

/**
 * The request object of a front-channel authorization request (`request` parameter), or
 * undefined without one. The client is the outer client_id's (an error page when unknown).
 */
export async function useRequestObject(
  params: Params,
  context: RequestObjectDeps & Pick<ProviderContext, 'clients'>,
): Promise<RequestObjectParameters | undefined> {
  const jwt = params.get('request');
  if (jwt === undefined) return undefined;
  const client = await resolveClient(params, context);
  if (params.isRepeated('request')) throw new UntrustedRequestObject('The request parameter was sent more than once.');
  // RFC 9101 §5: request and request_uri are alternatives.
  if (params.has('request_uri')) {
    throw new UntrustedRequestObject('The request and request_uri parameters must not both be sent (RFC 9101 5).');
  }
  return readRequestObject(jwt, client, context);
}

/**
 * RFC 9101 §6.2 and §6.3: verifies `jwt` as a request object signed by `client` and returns its
 * parameters. Throws UntrustedRequestObject while the signature has not verified.
 */
export async function readRequestObject(
  jwt: string,
  client: Client,
  context: RequestObjectDeps,
): Promise<RequestObjectParameters> {
  const alg = checkHeader(jwt, client);
  if (client.jwks === null && client.jwksUri === null) {
    throw new UntrustedRequestObject(
      'This client registered no public keys (jwks or jwks_uri) to verify request objects with (RFC 9101 6.2).',
    );
  }
  let payloadBytes: Uint8Array;
  try {
    payloadBytes = await verifyWithClientKeys(
      (keySet) => compactVerify(jwt, keySet, { algorithms: [alg] }),
      client,
      context.clientKeys,
    ).then((result) => result.payload);
  } catch (error) {
    throw untrustedSignature(error);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(payloadBytes));
  } catch {
    payload = undefined;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new UntrustedRequestObject('The request object payload is not a JSON object (RFC 9101 4).');
  }
  const claims = payload as Record<string, unknown>;
  const { params, unusable } = parametersOf(claims, client.clientId);
  const refusal = unusable ?? (await checkClaims(claims, client, context));
  return { params, refusal };
}

/** RFC 9101 §6.2 and §10.1: a compact JWS (never a JWE, never `none`), with an algorithm the client may use. */
function checkHeader(jwt: string, client: Client): string {
  const parts = jwt.split('.');
  if (parts.length === 5) {
    throw new UntrustedRequestObject(
      'Encrypted request objects are not supported: send a signed request object (RFC 9101 6.1).',
    );
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    if (parts.length !== 3) throw new Error('not a compact JWS');
    header = decodeProtectedHeader(jwt);
  } catch {
    throw new UntrustedRequestObject('The request parameter is not a signed JWT (RFC 9101 4).');
  }
  const alg = header.alg;
  if (alg === undefined || alg === 'none' || !REQUEST_OBJECT_SIGNING_ALGS.includes(alg)) {
    throw new UntrustedRequestObject(
      `The request object alg ${alg ?? '(missing)'} is not accepted: it must be signed with one of ${REQUEST_OBJECT_SIGNING_ALGS.join(', ')}, never none (RFC 9101 6.2, 10.1).`,
    );
  }
  if (client.requestObjectSigningAlg !== null && client.requestObjectSigningAlg !== alg) {
    throw new UntrustedRequestObject(
      `This client signs its request objects with ${client.requestObjectSigningAlg} (request_object_signing_alg), not ${alg} (RFC 9101 10.5).`,
    );
  }
  if (header.typ !== undefined && !ACCEPTED_TYPES.has(header.typ.toLowerCase())) {
    throw new UntrustedRequestObject(
      `The request object typ ${header.typ} is not oauth-authz-req+jwt (RFC 9101 4, 10.8).`,
    );
  }
  return alg;
}

/** Why the signature could not be verified, as an error page. */
function untrustedSignature(error: unknown): unknown {
  if (error instanceof ClientJwksUnavailable) {
    return new UntrustedRequestObject(`The client's keys could not be fetched: ${error.message}.`);
  }
  if (error instanceof InvalidClient) return new UntrustedRequestObject(error.reason);
  if (error instanceof joseErrors.JOSEError) {
    return new UntrustedRequestObject(
      `The request object signature does not verify with the client's registered keys (RFC 9101 6.2): ${error.message}.`,
    );
  }
  return error;
}

/**
 * RFC 9101 §6.3: the authorization request parameters of the object's claims (strings, numbers
 * such as max_age, arrays of strings such as resource), with the outer client_id. `claims`
 * (OpenID Connect Core §5.5, an object) is left out as its outer form is. `unusable`: a value
 * that is no parameter.
 */
function parametersOf(
  claims: Record<string, unknown>,
  clientId: string,
): { params: Params; unusable: InvalidRequestObject | undefined } {
  const entries: Array<[string, string]> = [['client_id', clientId]];
  let unusable: InvalidRequestObject | undefined;
  for (const [name, value] of Object.entries(claims)) {
    if (JWT_CLAIMS.has(name) || name === 'client_id' || name === 'claims') continue;
    if (typeof value === 'string') entries.push([name, value]);
    else if (typeof value === 'number' && Number.isFinite(value)) entries.push([name, String(value)]);
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string'))
      for (const item of value) entries.push([name, item]);
    else unusable ??= new InvalidRequestObject(`request object claim ${name} is not a string (RFC 9101 6.3)`);
  }
  let params: Params;
  try {
    params = Params.fromEntries(entries);
    params.assertNoControlCharacters();
  } catch (error) {
    if (error instanceof OAuthError)
      throw new UntrustedRequestObject(`The request object is refused: ${error.description}.`);
    throw error;
  }
  return { params, unusable };
}

/**
 * RFC 9101 §4 and §6.3: `iss` is the client, `aud` this server's issuer identifier, `client_id`
 * the outer one, no nested `request` or `request_uri`; `exp` required and at most
 * request_object_max_lifetime_seconds ahead, `nbf` and `iat` not in the future (RFC 7519 §4.1,
 * with CLOCK_SKEW_SECONDS of tolerance); `jti` required and never seen before for this client
 * until `exp` (single use, recorded last so that a refused object does not use up its id).
 */
async function checkClaims(
  claims: Record<string, unknown>,
  client: Client,
  context: RequestObjectDeps,
): Promise<InvalidRequestObject | undefined> {
  const refuse = (reason: string) => new InvalidRequestObject(`request object ${reason}`);
  const { settings } = context;
  const now = context.now();
  const nowSeconds = Math.floor(now / 1000);
  const { iss, aud, exp, nbf, iat, jti } = claims;
  if (iss !== client.clientId) return refuse('iss must be the client_id (RFC 9101 4)');
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(settings.issuer)) return refuse(`aud must be the issuer ${settings.issuer} (RFC 9101 4)`);
  if (claims['client_id'] !== client.clientId)
    return refuse('client_id must equal the client_id request parameter (RFC 9101 6.3)');
  if ('request' in claims || 'request_uri' in claims)
    return refuse('must not contain request or request_uri (RFC 9101 4)');
  if (typeof exp !== 'number') return refuse('exp is required (RFC 9101 4, RFC 7519 4.1.4)');
  if (exp <= nowSeconds - CLOCK_SKEW_SECONDS) return refuse('has expired (RFC 7519 4.1.4)');
  const maxLifetime = settings.requestObjectMaxLifetimeSeconds;
  if (exp > nowSeconds + maxLifetime + CLOCK_SKEW_SECONDS)
    return refuse(`exp is more than ${maxLifetime} seconds ahead; make request objects short-lived (RFC 9101 10.2)`);
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowSeconds + CLOCK_SKEW_SECONDS))
    return refuse('is not valid yet (nbf, RFC 7519 4.1.5)');
  if (iat !== undefined && (typeof iat !== 'number' || iat > nowSeconds + CLOCK_SKEW_SECONDS))
    return refuse('iat is in the future (RFC 7519 4.1.6)');
  if (typeof jti !== 'string' || jti === '' || jti.length > 256)
    return refuse('jti must be a string of 1 to 256 characters: request objects are single-use (RFC 7519 4.1.7)');
  const first = await context.store.usedJtis.markUsed(
    REQUEST_OBJECT_REPLAY_PURPOSE,
    `${client.clientId}\u0000${jti}`,
    (exp + CLOCK_SKEW_SECONDS) * 1000,
    now,
  );
  return first ? undefined : refuse('jti was used before: a request object is single-use (RFC 7519 4.1.7)');
}
