/**
 * The scenarios: what one virtual client does per operation, and how it gets ready first.
 *
 * Each operation checks the answer the way a client would (status, redirect target, state,
 * issuer, token response members); a wrong answer throws CheckError and counts as an error.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  CODE_FLOW_SCOPE,
  REDIRECT_URI,
  RESOURCE,
  RESOURCE_SCOPE,
  SIGNER_KEY_ID,
  signerKey,
  USER_PASSWORD,
  userName,
  type ServerInfo,
} from './common.js';
import {
  basicAuthorization,
  browse,
  check,
  CheckError,
  CookieJar,
  decodeEntities,
  formEncode,
  hiddenInput,
  jwtParts,
  parseJson,
  send,
  type Answer,
} from './http.js';

export const SCENARIO_NAMES = [
  'discovery',
  'client-credentials',
  'client-credentials-dpop',
  'client-credentials-private-key-jwt',
  'introspection',
  'refresh',
  'code-flow-c1',
  'code-flow-c32',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioDefinition {
  name: ScenarioName;
  /** Concurrent virtual clients, each in a closed loop. */
  concurrency: number;
  /** What one operation is, for the report. */
  unit: 'request' | 'flow';
  requestsPerOp: number;
  description: string;
  /** Makes virtual client `index` ready (sign-in, tokens); not measured. */
  setup(server: ServerInfo, index: number): Promise<VirtualClient>;
}

export interface VirtualClient {
  op(): Promise<void>;
  /** After an error: get back to a state where op() can succeed (not measured). */
  recover?(): Promise<void>;
  /** What the server issued during setup (token shapes), for the report; set on some clients. */
  sample?: Record<string, unknown>;
}

const random = (bytes = 16) => randomBytes(bytes).toString('base64url');
const enc = encodeURIComponent;

export function newPkce(): { verifier: string; challenge: string } {
  const verifier = random(32);
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** RFC 6749 §4.1.1: the web client's authorization request (PKCE S256, OIDC nonce, RFC 8707 resource). */
export function authorizeUrl(
  server: ServerInfo,
  p: { state: string; nonce: string; challenge: string; loginHint?: string },
): string {
  return (
    `${server.endpoints.authorization}?response_type=code&client_id=${enc(server.clients.web.id)}` +
    `&redirect_uri=${enc(REDIRECT_URI)}&scope=${enc(CODE_FLOW_SCOPE)}&state=${p.state}&nonce=${p.nonce}` +
    `&code_challenge=${p.challenge}&code_challenge_method=S256&resource=${enc(RESOURCE)}` +
    (p.loginHint !== undefined ? `&login_hint=${enc(p.loginHint)}` : '')
  );
}

/** RFC 6749 §4.1.2 and RFC 9207: the redirect back to the client, with the code. */
export function codeFromRedirect(answer: Answer, from: string, server: ServerInfo, state: string): string {
  check(
    answer.status === 302 || answer.status === 303,
    () => `authorize: expected a redirect to the client, got ${answer.status}: ${answer.text.slice(0, 200)}`,
  );
  const location = new URL(answer.headers.get('location') ?? '', from);
  check(
    `${location.origin}${location.pathname}` === REDIRECT_URI,
    () => `authorize: redirected to ${location.href}, not to the client (session or consent not remembered?)`,
  );
  check(!location.searchParams.has('error'), () => `authorize: error at the redirect: ${location.search}`);
  check(location.searchParams.get('state') === state, () => `authorize: state mismatch in ${location.search}`);
  const iss = location.searchParams.get('iss');
  check(iss === null || iss === server.issuer, () => `authorize: iss ${iss} is not ${server.issuer}`);
  const code = location.searchParams.get('code');
  check(code, () => `authorize: no code in ${location.search}`);
  return code;
}

function checkTokenResponse(
  answer: Answer,
  what: string,
  expect: { idToken?: boolean; refreshToken?: boolean; jwt?: boolean; tokenType?: 'bearer' | 'dpop' },
): Record<string, unknown> {
  check(answer.status === 200, () => `${what}: status ${answer.status}: ${answer.text.slice(0, 300)}`);
  const body = parseJson(answer, what);
  const accessToken = body['access_token'];
  check(typeof accessToken === 'string' && accessToken.length > 0, () => `${what}: no access_token`);
  const tokenType = expect.tokenType ?? 'bearer';
  check(
    typeof body['token_type'] === 'string' && body['token_type'].toLowerCase() === tokenType,
    () => `${what}: token_type ${String(body['token_type'])}, not ${tokenType}`,
  );
  if (expect.jwt) check(accessToken.split('.').length === 3, () => `${what}: the access token is not a JWT`);
  if (expect.idToken) check(typeof body['id_token'] === 'string', () => `${what}: no id_token`);
  if (expect.refreshToken) check(typeof body['refresh_token'] === 'string', () => `${what}: no refresh_token`);
  return body;
}

/** What a token response looked like: its members and the access token's header and claims. */
function describeTokens(body: Record<string, unknown>): Record<string, unknown> {
  const access = jwtParts(body['access_token']);
  const id = jwtParts(body['id_token']);
  return {
    members: Object.keys(body).sort(),
    access_token: access
      ? {
          alg: access.header['alg'],
          typ: access.header['typ'],
          aud: access.payload['aud'],
          scope: access.payload['scope'],
          claims: Object.keys(access.payload).sort(),
        }
      : 'opaque',
    ...(id ? { id_token: { alg: id.header['alg'], claims: Object.keys(id.payload).sort() } } : {}),
    ...(typeof body['refresh_token'] === 'string' ? { refresh_token_length: body['refresh_token'].length } : {}),
  };
}

/**
 * The login or consent form of a page of the server's own (status 200), filled in for user
 * `index` (consent: allow): where it posts and its body. Undefined when the page has neither.
 */
export function filledForm(answer: Answer, url: string, index: number): { url: string; form: string } | undefined {
  if (answer.status !== 200) return undefined;
  const fields = /name="password"/.test(answer.text)
    ? { username: userName(index), password: USER_PASSWORD }
    : /name="decision"/.test(answer.text)
      ? { decision: 'allow' }
      : undefined;
  if (!fields) return undefined;
  const action = /<form[^>]*action="([^"]+)"/.exec(answer.text)?.[1];
  check(action, () => `no form action on ${url}`);
  const csrf = hiddenInput(answer.text, 'csrf_token');
  return {
    url: new URL(decodeEntities(action), url).href,
    form: formEncode({ ...(csrf !== undefined ? { csrf_token: csrf } : {}), ...fields }),
  };
}

/** A signed-in browser of one user with consent given, and the code of that first authorization. */
export interface Browser {
  jar: CookieJar;
  issuerOrigin: string;
}

/**
 * Signs user `index` in through the server's own pages (Gatehouse: the login and consent
 * forms; oidc-provider: the auto-approving interaction, which reads login_hint), following the
 * redirects like a browser, until the redirect back to the client.
 */
export async function signIn(
  server: ServerInfo,
  index: number,
): Promise<{ browser: Browser; code: string; verifier: string }> {
  const browser: Browser = { jar: new CookieJar(), issuerOrigin: new URL(server.issuer).origin };
  const { verifier, challenge } = newPkce();
  const state = random();
  let url = authorizeUrl(server, { state, nonce: random(), challenge, loginHint: userName(index) });
  let answer = await browse(browser.jar, url);
  for (let step = 0; step < 20; step++) {
    if (answer.status >= 300 && answer.status < 400) {
      const next = new URL(answer.headers.get('location') ?? '', url);
      if (next.origin !== browser.issuerOrigin)
        return { browser, code: codeFromRedirect(answer, url, server, state), verifier };
      url = next.href;
      answer = await browse(browser.jar, url);
      continue;
    }
    const form = filledForm(answer, url, index);
    if (!form) break;
    url = form.url;
    answer = await browse(browser.jar, url, { form: form.form });
  }
  throw new CheckError(
    `sign-in of ${userName(index)} stopped at ${url}: status ${answer.status}: ${answer.text.slice(0, 300)}`,
  );
}

export async function redeemCode(server: ServerInfo, code: string, verifier: string): Promise<Record<string, unknown>> {
  const answer = await send(server.endpoints.token, {
    headers: { authorization: basicAuthorization(server.clients.web.id, server.clients.web.secret) },
    form: formEncode({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  return checkTokenResponse(answer, 'token (authorization_code)', { idToken: true, refreshToken: true, jwt: true });
}

/** One complete flow with an existing session and remembered consent: authorize, then redeem. */
async function codeFlow(server: ServerInfo, browser: Browser): Promise<Record<string, unknown>> {
  const { verifier, challenge } = newPkce();
  const state = random();
  const url = authorizeUrl(server, { state, nonce: random(), challenge });
  const answer = await browse(browser.jar, url);
  const code = codeFromRedirect(answer, url, server, state);
  return redeemCode(server, code, verifier);
}

async function clientCredentials(server: ServerInfo, resource: string, jwt: boolean): Promise<Record<string, unknown>> {
  const answer = await send(server.endpoints.token, {
    headers: { authorization: basicAuthorization(server.clients.service.id, server.clients.service.secret) },
    form: formEncode({ grant_type: 'client_credentials', scope: RESOURCE_SCOPE, resource }),
  });
  return checkTokenResponse(answer, 'token (client_credentials)', { jwt });
}

/**
 * An ES256 JWT signer with node:crypto (so that the driver spends as little CPU as it can on
 * it): the protected `header` once, the claims per call.
 */
function es256Signer(header: Record<string, unknown>, key: KeyObject): (claims: Record<string, unknown>) => string {
  const encodedHeader = Buffer.from(JSON.stringify(header)).toString('base64url');
  return (claims) => {
    const input = `${encodedHeader}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  };
}

/** A DPoP prover (RFC 9449 §4.2): one P-256 key per virtual client, a fresh proof per request. */
function dpopProver(): (htu: string) => string {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const signJwt = es256Signer({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }, privateKey);
  return (htu) => signJwt({ jti: random(), htm: 'POST', htu, iat: Math.floor(Date.now() / 1000) });
}

/**
 * A private_key_jwt client assertion maker (RFC 7523 §3): iss = sub = the signer client, aud the
 * issuer, a fresh jti, 60 s of life, signed with the benchmark's signer key (common.ts).
 */
function clientAssertionMaker(server: ServerInfo): () => string {
  const key = createPrivateKey({ key: signerKey().privateJwk, format: 'jwk' });
  const signJwt = es256Signer({ alg: 'ES256', kid: SIGNER_KEY_ID }, key);
  const clientId = server.clients.signer.id;
  return () => {
    const now = Math.floor(Date.now() / 1000);
    return signJwt({ iss: clientId, sub: clientId, aud: server.issuer, jti: random(), iat: now, exp: now + 60 });
  };
}

async function privateKeyJwtClientCredentials(
  server: ServerInfo,
  assertion: () => string,
): Promise<Record<string, unknown>> {
  const answer = await send(server.endpoints.token, {
    form: formEncode({
      grant_type: 'client_credentials',
      scope: RESOURCE_SCOPE,
      resource: RESOURCE,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion(),
    }),
  });
  return checkTokenResponse(answer, 'token (client_credentials, private_key_jwt)', { jwt: true });
}

async function dpopClientCredentials(
  server: ServerInfo,
  prove: (htu: string) => string,
): Promise<Record<string, unknown>> {
  const answer = await send(server.endpoints.token, {
    headers: {
      authorization: basicAuthorization(server.clients.service.id, server.clients.service.secret),
      dpop: prove(server.endpoints.token),
    },
    form: formEncode({ grant_type: 'client_credentials', scope: RESOURCE_SCOPE, resource: RESOURCE }),
  });
  // The bare-server ceiling answers a fixed Bearer body: only its HTTP cost is the point.
  return checkTokenResponse(answer, 'token (client_credentials, DPoP)', {
    jwt: true,
    tokenType: server.kind === 'ceiling' ? 'bearer' : 'dpop',
  });
}

function codeFlowScenario(name: ScenarioName, concurrency: number): ScenarioDefinition {
  return {
    name,
    concurrency,
    unit: 'flow',
    requestsPerOp: 2,
    description: `authorization code + PKCE with an existing session and remembered consent (GET authorize -> redirect with code -> POST token), ${concurrency} concurrent flow${concurrency > 1 ? 's' : ''}`,
    async setup(server, index) {
      if (server.kind === 'ceiling') {
        const browser = { jar: new CookieJar(), issuerOrigin: new URL(server.issuer).origin };
        return { op: async () => void (await codeFlow(server, browser)) };
      }
      const { browser, code, verifier } = await signIn(server, index);
      const first = await redeemCode(server, code, verifier);
      // The first measured-style flow, also checking that no interaction is needed any more.
      const second = await codeFlow(server, browser);
      return {
        op: async () => void (await codeFlow(server, browser)),
        sample: {
          first_flow: describeTokens(first),
          remembered_flow: describeTokens(second),
          cookies: browser.jar.names(),
        },
      };
    },
  };
}

export const SCENARIOS: Record<ScenarioName, ScenarioDefinition> = {
  discovery: {
    name: 'discovery',
    concurrency: 32,
    unit: 'request',
    requestsPerOp: 1,
    description: 'GET /.well-known/openid-configuration',
    async setup(server) {
      return {
        async op() {
          const answer = await send(server.endpoints.discovery);
          check(answer.status === 200, () => `discovery: status ${answer.status}`);
          check(parseJson(answer, 'discovery')['issuer'] === server.issuer, () => 'discovery: wrong issuer');
        },
      };
    },
  },
  'client-credentials': {
    name: 'client-credentials',
    concurrency: 32,
    unit: 'request',
    requestsPerOp: 1,
    description:
      'POST /token grant_type=client_credentials (client_secret_basic), ES256 JWT access token for the resource',
    async setup(server, index) {
      const first = await clientCredentials(server, RESOURCE, true);
      return {
        op: async () => void (await clientCredentials(server, RESOURCE, true)),
        ...(index === 0 ? { sample: describeTokens(first) } : {}),
      };
    },
  },
  'client-credentials-dpop': {
    name: 'client-credentials-dpop',
    concurrency: 32,
    unit: 'request',
    requestsPerOp: 1,
    description:
      'POST /token grant_type=client_credentials (client_secret_basic) with a DPoP proof (RFC 9449): a DPoP-bound ES256 JWT access token (cnf.jkt); each proof checked and its jti recorded once',
    async setup(server, index) {
      const prove = dpopProver();
      const first = await dpopClientCredentials(server, prove);
      return {
        op: async () => void (await dpopClientCredentials(server, prove)),
        ...(index === 0 ? { sample: describeTokens(first) } : {}),
      };
    },
  },
  'client-credentials-private-key-jwt': {
    name: 'client-credentials-private-key-jwt',
    concurrency: 32,
    unit: 'request',
    requestsPerOp: 1,
    description:
      'POST /token grant_type=client_credentials authenticated with private_key_jwt (RFC 7523): a fresh ES256 client assertion per request, its signature checked and its jti recorded once; ES256 JWT access token',
    async setup(server, index) {
      const assertion = clientAssertionMaker(server);
      const first = await privateKeyJwtClientCredentials(server, assertion);
      return {
        op: async () => void (await privateKeyJwtClientCredentials(server, assertion)),
        ...(index === 0 ? { sample: describeTokens(first) } : {}),
      };
    },
  },
  introspection: {
    name: 'introspection',
    concurrency: 32,
    unit: 'request',
    requestsPerOp: 1,
    description:
      "POST introspection of a valid access token by the resource's introspection client (client_secret_basic)",
    async setup(server, index) {
      // oidc-provider cannot introspect JWT access tokens: its token is an opaque one (see servers/oidc-provider.ts).
      const token = (await clientCredentials(server, server.introspectionResource, false))['access_token'] as string;
      const authorization = basicAuthorization(server.clients.introspector.id, server.clients.introspector.secret);
      const introspect = async () => {
        const answer = await send(server.endpoints.introspection, {
          headers: { authorization },
          form: formEncode({ token, token_type_hint: 'access_token' }),
        });
        check(answer.status === 200, () => `introspection: status ${answer.status}: ${answer.text.slice(0, 200)}`);
        const body = parseJson(answer, 'introspection');
        check(body['active'] === true, () => `introspection: not active: ${answer.text.slice(0, 200)}`);
        return body;
      };
      const first = await introspect();
      return {
        op: async () => void (await introspect()),
        ...(index === 0
          ? {
              sample: {
                token: token.split('.').length === 3 ? 'JWT' : 'opaque',
                response_members: Object.keys(first).sort(),
              },
            }
          : {}),
      };
    },
  },
  refresh: {
    name: 'refresh',
    concurrency: 32,
    unit: 'request',
    requestsPerOp: 1,
    description: 'POST /token grant_type=refresh_token with rotation; each virtual client follows its own chain',
    async setup(server, index) {
      let browser: Browser | undefined;
      let current: string;
      if (server.kind === 'ceiling') {
        current = 'r0';
      } else {
        const signedIn = await signIn(server, index);
        browser = signedIn.browser;
        current = (await redeemCode(server, signedIn.code, signedIn.verifier))['refresh_token'] as string;
      }
      const authorization = basicAuthorization(server.clients.web.id, server.clients.web.secret);
      const refresh = async () => {
        const answer = await send(server.endpoints.token, {
          headers: { authorization },
          form: formEncode({ grant_type: 'refresh_token', refresh_token: current }),
        });
        const body = checkTokenResponse(answer, 'token (refresh_token)', { refreshToken: true, jwt: true });
        check(body['refresh_token'] !== current, () => 'refresh: the refresh token was not rotated');
        current = body['refresh_token'] as string;
        return body;
      };
      const first = await refresh();
      return {
        op: async () => void (await refresh()),
        async recover() {
          if (!browser) return;
          current = (await codeFlow(server, browser))['refresh_token'] as string;
        },
        ...(index === 0 ? { sample: describeTokens(first) } : {}),
      };
    },
  },
  'code-flow-c1': codeFlowScenario('code-flow-c1', 1),
  'code-flow-c32': codeFlowScenario('code-flow-c32', 32),
};
