/**
 * A running deployment (`gatehouse doctor --url`): its discovery document (RFC 8414 §3,
 * OpenID Connect Discovery 1.0 §4), every endpoint it advertises answering, and every advertised
 * signing algorithm usable (a key for it in the JWKS). `fetch` is passed in, so that this stays
 * framework-free and the caller decides how requests go out.
 */
import { finding, isLoopbackHostname, type Finding } from './findings.js';

export type Fetch = (url: string, init?: { method?: string; redirect?: 'manual' }) => Promise<Response>;

const DISCOVERY_PATH = '/.well-known/openid-configuration';

/** The metadata members that name algorithms a key in the JWKS must exist for. */
const KEYED_ALG_MEMBERS = ['id_token_signing_alg_values_supported'];

/** JWS algorithm → the JWK properties a key for it has (RFC 7518 §3.1, RFC 8037 §3.1). */
const KEY_FOR_ALG: Record<string, (jwk: Record<string, unknown>) => boolean> = {
  RS256: (jwk) => jwk['kty'] === 'RSA',
  PS256: (jwk) => jwk['kty'] === 'RSA',
  ES256: (jwk) => jwk['kty'] === 'EC' && jwk['crv'] === 'P-256',
  ES384: (jwk) => jwk['kty'] === 'EC' && jwk['crv'] === 'P-384',
  EdDSA: (jwk) => jwk['kty'] === 'OKP' && jwk['crv'] === 'Ed25519',
};

async function answer(fetch: Fetch, url: string): Promise<Response | Error> {
  try {
    return await fetch(url, { method: 'GET', redirect: 'manual' });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Checks the deployment at `issuer`. `expected`: the discovery document the configuration read
 * would publish (serverMetadata), when one was read: every member must be the same there.
 */
export async function checkDeployment(
  issuer: string,
  fetch: Fetch,
  expected?: Record<string, unknown>,
): Promise<Finding[]> {
  const base = issuer.replace(/\/+$/, '');
  const findings: Finding[] = [];
  const url = new URL(base);
  if (url.protocol !== 'https:' && !isLoopbackHostname(url.hostname)) {
    findings.push(
      finding(
        'error',
        'discovery.tls',
        'OAuth 2.1 §1.5, RFC 8414 §2',
        `the deployment ${base} is not https`,
        `issuer: https://${url.host}${url.pathname === '/' ? '' : url.pathname}`,
      ),
    );
  }
  const response = await answer(fetch, base + DISCOVERY_PATH);
  if (response instanceof Error || !response.ok) {
    const why = response instanceof Error ? response.message : `HTTP ${response.status}`;
    return [
      ...findings,
      finding(
        'error',
        'discovery.document',
        'RFC 8414 §3',
        `the discovery document ${base}${DISCOVERY_PATH} did not answer (${why})`,
        `check that gatehouse start runs and answers at ${base}`,
      ),
    ];
  }
  let metadata: Record<string, unknown>;
  try {
    metadata = (await response.json()) as Record<string, unknown>;
  } catch {
    return [
      ...findings,
      finding(
        'error',
        'discovery.document',
        'RFC 8414 §3.2',
        `the discovery document at ${base}${DISCOVERY_PATH} is not JSON`,
        'check what answers in front of Gatehouse (a proxy error page?)',
      ),
    ];
  }
  // RFC 8414 §3.3: the issuer in the document is the one it was fetched for.
  if (metadata['issuer'] !== base) {
    findings.push(
      finding(
        'error',
        'discovery.issuer',
        'RFC 8414 §3.3',
        `the document names the issuer ${String(metadata['issuer'])}, but was fetched from ${base}: clients refuse it`,
        `issuer: ${base}`,
      ),
    );
  }
  if (expected !== undefined) findings.push(...checkConsistency(base, metadata, expected));
  if (metadata['authorization_response_iss_parameter_supported'] !== true) {
    findings.push(
      finding(
        'warning',
        'discovery.iss',
        'RFC 9207 §3, FAPI 2.0 §5.3.2.2',
        'the document does not say authorization responses carry iss (mix-up defence)',
        'upgrade Gatehouse: every authorization response carries iss',
      ),
    );
  }
  const pkce = metadata['code_challenge_methods_supported'];
  if (!Array.isArray(pkce) || !pkce.includes('S256') || pkce.includes('plain')) {
    findings.push(
      finding(
        'warning',
        'discovery.pkce',
        'RFC 9700 §2.1.1',
        `code_challenge_methods_supported is ${JSON.stringify(pkce)}, not ["S256"]`,
        'upgrade Gatehouse (it supports S256 only)',
      ),
    );
  }
  findings.push(...(await checkEndpoints(metadata, fetch)));
  findings.push(...(await checkAlgorithms(metadata, fetch)));
  return findings;
}

/** Every advertised endpoint answers (any status below 500: a GET to the token endpoint gets 405). */
async function checkEndpoints(metadata: Record<string, unknown>, fetch: Fetch): Promise<Finding[]> {
  const endpoints = Object.entries(metadata).filter(
    ([name, value]) => (name.endsWith('_endpoint') || name === 'jwks_uri') && typeof value === 'string',
  ) as Array<[string, string]>;
  const findings: Finding[] = [];
  for (const [name, endpoint] of endpoints) {
    const response = await answer(fetch, endpoint);
    if (response instanceof Error || response.status >= 500) {
      const why = response instanceof Error ? response.message : `HTTP ${response.status}`;
      findings.push(
        finding(
          'error',
          'discovery.endpoint',
          'RFC 8414 §2',
          `${name} ${endpoint} does not answer (${why})`,
          `check the proxy routes ${new URL(endpoint).pathname} to Gatehouse`,
        ),
      );
    }
  }
  if (findings.length === 0) {
    findings.push(
      finding('info', 'discovery.endpoint', 'RFC 8414 §2', `all ${endpoints.length} advertised endpoints answer`),
    );
  }
  return findings;
}

/** Every algorithm advertised for signatures the server makes has a key in the JWKS. */
async function checkAlgorithms(metadata: Record<string, unknown>, fetch: Fetch): Promise<Finding[]> {
  if (typeof metadata['jwks_uri'] !== 'string') {
    return [
      finding(
        'error',
        'discovery.jwks',
        'RFC 8414 §2',
        'the document has no jwks_uri: nobody can verify tokens',
        'upgrade Gatehouse',
      ),
    ];
  }
  const response = await answer(fetch, metadata['jwks_uri']);
  let keys: Array<Record<string, unknown>> = [];
  if (!(response instanceof Error) && response.ok) {
    keys = (((await response.json().catch(() => ({}))) as { keys?: unknown }).keys ?? []) as Array<
      Record<string, unknown>
    >;
  }
  const findings: Finding[] = [];
  for (const member of KEYED_ALG_MEMBERS) {
    const algs = Array.isArray(metadata[member]) ? (metadata[member] as string[]) : [];
    for (const alg of algs) {
      const fits = KEY_FOR_ALG[alg];
      if (fits === undefined || !keys.some((jwk) => (jwk['alg'] === undefined || jwk['alg'] === alg) && fits(jwk))) {
        findings.push(
          finding(
            'error',
            'discovery.algorithm',
            'RFC 8414 §2, RFC 7517 §4.4',
            `${member} advertises ${alg}, but the JWKS has no key for it: tokens signed with it cannot be verified`,
            `gatehouse keys rotate --alg ${alg}`,
          ),
        );
      }
    }
  }
  return findings;
}

/** The deployment publishes what the configuration says (RFC 8414 §3.3 for the issuer; else a stale instance or another config file). */
function checkConsistency(
  base: string,
  metadata: Record<string, unknown>,
  expected: Record<string, unknown>,
): Finding[] {
  if (expected['issuer'] !== base) {
    return [
      finding(
        'error',
        'discovery.issuer',
        'RFC 8414 §3.3',
        `the configuration's issuer ${String(expected['issuer'])} is not the deployment checked (${base})`,
        `issuer: ${base}   (or run doctor --url ${String(expected['issuer'])})`,
      ),
    ];
  }
  const differing = Object.keys(expected).filter(
    (name) => JSON.stringify(metadata[name]) !== JSON.stringify(expected[name]),
  );
  if (differing.length === 0) {
    return [
      finding(
        'info',
        'discovery.consistency',
        'RFC 8414 §2',
        'the deployment publishes the discovery document this configuration gives',
      ),
    ];
  }
  return [
    finding(
      'warning',
      'discovery.consistency',
      'RFC 8414 §2',
      `the deployment's discovery document differs from this configuration's in ${differing.join(', ')}: an instance runs another configuration or version`,
      'restart every instance with this configuration (gatehouse start --config ...)',
    ),
  ];
}
