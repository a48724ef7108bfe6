/**
 * Client authentication at the token endpoint, RFC 6749 §2.3.
 *
 * Methods: `client_secret_basic` (§2.3.1, with the Appendix B form-urlencoding of id and
 * secret), `client_secret_post` (§2.3.1), `private_key_jwt` and `client_secret_jwt` (RFC 7523
 * §2.2, OpenID Connect Core §9; ./client-assertion.ts), and `none` for public clients (§2.1,
 * RFC 7591 §2).
 * A client must use the method it registered; using two at once is `invalid_request`
 * ("The client MUST NOT use more than one authentication method in each request").
 */
import type { Client, Store } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { InvalidClient, InvalidRequest } from '../errors.js';
import { clientAuthLimits, type AttemptLimitDeps } from '../limits/attempt-limits.js';
import type { Params } from '../params.js';
import { FAPI2_SIGNING_ALGS, usesFapi2 } from '../profile/fapi2-profile.js';
import { isGeneratedSecretHash, verifyClientSecret } from '../secrets.js';
import {
  readClientAssertion,
  verifyClientAssertion,
  type ClientAssertion,
  type ClientAssertionDeps,
} from './client-assertion.js';

export interface ClientCredentials {
  method: Client['tokenEndpointAuthMethod'];
  clientId: string;
  clientSecret: string | null;
  /** private_key_jwt and client_secret_jwt: the assertion, not yet verified. */
  assertion?: ClientAssertion;
}

/** Decodes one Basic credential component: RFC 6749 Appendix B form-urlencoding. */
function formUrlDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** Parses `Authorization: Basic ...`; undefined when the header is absent or another scheme. */
export function parseBasicAuthorization(
  header: string | undefined,
): { clientId: string; clientSecret: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^basic +([A-Za-z0-9+/=._~-]*)\s*$/i.exec(header);
  if (!match) {
    if (/^basic\b/i.test(header)) throw new InvalidClient('malformed Basic authorization header', { usedBasic: true });
    return undefined;
  }
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidClient('malformed Basic authorization header', { usedBasic: true });
  try {
    return { clientId: formUrlDecode(decoded.slice(0, colon)), clientSecret: formUrlDecode(decoded.slice(colon + 1)) };
  } catch {
    throw new InvalidClient('malformed Basic authorization header', { usedBasic: true });
  }
}

/** Works out which method the request uses, refusing ambiguous requests. */
export function extractClientCredentials(authorization: string | undefined, params: Params): ClientCredentials {
  const basic = parseBasicAuthorization(authorization);
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  const assertionSent =
    params.get('client_assertion') !== undefined || params.get('client_assertion_type') !== undefined;
  if (assertionSent) {
    if (basic || bodySecret !== undefined) {
      throw new InvalidRequest('client authenticated with both a client assertion and a client secret');
    }
    const assertion = readClientAssertion(params)!;
    return { method: assertion.method, clientId: assertion.clientId, clientSecret: null, assertion };
  }
  if (basic) {
    if (bodySecret !== undefined)
      throw new InvalidRequest('client authenticated with both Basic and client_secret_post');
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new InvalidRequest('client_id in the body differs from the one in the Authorization header');
    }
    return { method: 'client_secret_basic', clientId: basic.clientId, clientSecret: basic.clientSecret };
  }
  if (bodyId === undefined) throw new InvalidClient('client authentication is required', { usedBasic: false });
  if (bodySecret !== undefined) return { method: 'client_secret_post', clientId: bodyId, clientSecret: bodySecret };
  return { method: 'none', clientId: bodyId, clientSecret: null };
}

/** What client authentication reads from a back-channel request. */
export interface ClientAuthenticationRequest {
  params: Params;
  /** The Authorization header, if any. */
  authorization: string | undefined;
  /** The client's IP address, for the brute-force limits. */
  clientIp: string;
  /** The path of the endpoint called (ENDPOINT_PATHS), an `aud` a client assertion may name. */
  endpointPath?: string;
}

/** What client authentication uses: the clients (from the instance's cache), the brute-force limits, and what client assertions need. */
export type ClientAuthenticationDeps = AttemptLimitDeps &
  Pick<ProviderContext, 'clients'> &
  ClientAssertionDeps & { store: Pick<Store, 'rateLimits'> };

/**
 * Authenticates the client of a token, revocation or introspection request. Failures are
 * limited per (client_id, IP address) and per IP address (src/core/limits/attempt-limits.ts): a client_id is
 * public (RFC 6749 §2.2), so failures from one address must not lock the client out elsewhere.
 * A generated secret is a SHA-256 comparison, cheap enough to check always: the right one is
 * never refused, a wrong one from a blocked address gets TooManyAttempts (429). Any other
 * client (argon2id secret, unknown client_id) is refused with TooManyAttempts while blocked,
 * before any secret is hashed.
 */
export async function authenticateClient(
  request: ClientAuthenticationRequest,
  context: ClientAuthenticationDeps,
): Promise<Client> {
  const limits = clientAuthLimits(context, request.clientIp);
  let credentials: ClientCredentials;
  try {
    credentials = extractClientCredentials(request.authorization, request.params);
  } catch (error) {
    if (error instanceof InvalidClient) await limits.failed(null);
    throw error;
  }
  const generated = isGeneratedSecretHash((await context.clients.get(credentials.clientId))?.clientSecretHash ?? null);
  if (!generated) await limits.check(credentials.clientId);
  try {
    const client = await verifyCredentials(credentials, context.clients);
    if (usesFapi2(client, context.settings)) checkFapi2Authentication(credentials);
    if (credentials.assertion)
      await verifyClientAssertion(credentials.assertion, client, request.endpointPath, context);
    await limits.succeeded(client.clientId);
    return client;
  } catch (error) {
    if (error instanceof InvalidClient) {
      // A wrong generated secret while the pair or address is blocked: 429 and not counted, as
      // any other refused request.
      if (generated) await limits.check(credentials.clientId);
      await limits.failed(credentials.clientId);
    }
    throw error;
  }
}

/**
 * FAPI 2.0 Security Profile §5.3.2.1: a fapi2 client authenticates with private_key_jwt only
 * (no secret, not client_secret_jwt), and §5.4.1 its assertions are signed with PS256, ES256 or
 * EdDSA. Checked after the client was found to use the method it registered, so a fapi2 client
 * registered before the server switched to the profile is refused here.
 */
function checkFapi2Authentication(credentials: ClientCredentials): void {
  const usedBasic = credentials.method === 'client_secret_basic';
  if (credentials.method !== 'private_key_jwt') {
    throw new InvalidClient(
      `the FAPI 2.0 Security Profile (section 5.3.2.1) allows only private_key_jwt client authentication, not ${credentials.method}`,
      { usedBasic, disclose: true },
    );
  }
  const alg = credentials.assertion?.alg ?? '';
  if (!FAPI2_SIGNING_ALGS.includes(alg)) {
    throw new InvalidClient(
      `the FAPI 2.0 Security Profile (section 5.4.1) allows client assertions signed with ${FAPI2_SIGNING_ALGS.join(', ')} only, not ${alg}`,
      { usedBasic, disclose: true },
    );
  }
}

/** `clients`: where clients are looked up, the instance's cache (context.clients) or the store's. */
async function verifyCredentials(
  credentials: ClientCredentials,
  clients: Pick<Store['clients'], 'get'>,
): Promise<Client> {
  const usedBasic = credentials.method === 'client_secret_basic';
  const client = await clients.get(credentials.clientId);
  if (!client) throw new InvalidClient('unknown client or wrong credentials', { usedBasic });
  if (client.tokenEndpointAuthMethod !== credentials.method) {
    throw new InvalidClient(
      `client is registered for ${client.tokenEndpointAuthMethod} authentication, not ${credentials.method}`,
      { usedBasic },
    );
  }
  if (credentials.method === 'none' || credentials.assertion) return client;
  if (client.clientSecretHash === null || credentials.clientSecret === null) {
    throw new InvalidClient('unknown client or wrong credentials', { usedBasic });
  }
  if (!(await verifyClientSecret(client.clientSecretHash, credentials.clientSecret))) {
    throw new InvalidClient('unknown client or wrong credentials', { usedBasic });
  }
  return client;
}
