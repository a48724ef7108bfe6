/**
 * What the benchmark servers and the load driver agree on: the registered clients, users,
 * resources and scopes, and the line a server prints when it is ready.
 *
 * Every server registers the same four clients (a web app using the authorization code flow
 * with refresh tokens, a service using client credentials, a resource server's introspection
 * client, and a service authenticating with private_key_jwt), the same users and the same
 * protected resource, so that each scenario asks every server for the same work.
 */
import { createECDH, createHash, type JsonWebKey } from 'node:crypto';

/** The protected resource (RFC 8707) access tokens are issued for: a JWT with this audience. */
export const RESOURCE = 'https://api.bench.example/';
/**
 * oidc-provider refuses to introspect JWT access tokens (its introspection endpoint only knows
 * the tokens it stores), so its introspection scenario uses an opaque token for this resource.
 */
export const OPAQUE_RESOURCE = 'https://opaque.bench.example/';
export const RESOURCE_SCOPE = 'api:read';

/** Never contacted: the driver reads the code from the Location header. */
export const REDIRECT_URI = 'http://127.0.0.1:9000/callback';

/** What the code flow asks for: an ID token, a refresh token and an access token for the API. */
export const CODE_FLOW_SCOPE = `openid offline_access ${RESOURCE_SCOPE}`;
export const WEB_CLIENT_SCOPE = `openid profile email offline_access ${RESOURCE_SCOPE}`;

export const WEB_CLIENT_ID = 'bench-web';
export const SERVICE_CLIENT_ID = 'bench-service';
export const INTROSPECTOR_CLIENT_ID = 'bench-introspector';
/** The client of the private_key_jwt scenario (RFC 7523 §2.2): an ES256 client assertion per request. */
export const SIGNER_CLIENT_ID = 'bench-signer';
export const SIGNER_KEY_ID = 'bench-signer-1';

/**
 * The signer client's P-256 key, the same in every process (servers register the public half,
 * the driver signs with the private one): its private scalar is derived from a fixed label, so
 * no key material is stored. A benchmark key, public on purpose: never use it elsewhere.
 */
export function signerKey(): { privateJwk: JsonWebKey; publicJwk: JsonWebKey & { kid: string } } {
  const d = createHash('sha256').update('gatehouse benchmark private_key_jwt client').digest();
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey(); // 0x04 || x || y (SEC 1 §2.3.3)
  const publicJwk = {
    kty: 'EC',
    crv: 'P-256',
    x: point.subarray(1, 33).toString('base64url'),
    y: point.subarray(33).toString('base64url'),
  };
  return {
    privateJwk: { ...publicJwk, d: d.toString('base64url') },
    publicJwk: { ...publicJwk, kid: SIGNER_KEY_ID, alg: 'ES256', use: 'sig' },
  };
}

/** One virtual user per concurrent flow at most. */
export const MAX_VIRTUAL_USERS = 32;
export const USER_PASSWORD = 'bench-password-correct-horse-battery-staple';
export function userName(index: number): string {
  return `bench-user-${index}`;
}

export interface Credentials {
  id: string;
  secret: string;
}

export type TargetKind = 'gatehouse' | 'oidc-provider' | 'ceiling';

/** What a server process prints, after READY_PREFIX, as one JSON line on stdout. */
export interface ServerInfo {
  kind: TargetKind;
  pid: number;
  port: number;
  issuer: string;
  endpoints: {
    discovery: string;
    authorization: string;
    token: string;
    introspection: string;
  };
  /** Absent for the ceiling, which checks no credentials. The signer's secret is unused (it signs with signerKey()). */
  clients: { web: Credentials; service: Credentials; introspector: Credentials; signer: Credentials };
  /** The resource whose access tokens the introspection scenario introspects. */
  introspectionResource: string;
  /** Free-form facts for the report (database, adapter, versions). */
  notes: Record<string, string>;
}

export const READY_PREFIX = 'BENCH_READY ';

/** The endpoints of a server at `base`: discovery at its well-known path, the others at `paths`. */
export function endpointsAt(
  base: string,
  paths: { authorization: string; token: string; introspection: string },
): ServerInfo['endpoints'] {
  return {
    discovery: `${base}/.well-known/openid-configuration`,
    authorization: `${base}${paths.authorization}`,
    token: `${base}${paths.token}`,
    introspection: `${base}${paths.introspection}`,
  };
}

export function announceReady(info: ServerInfo): void {
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(info)}\n`);
}

/** Parses `--name value` and `--flag` arguments. */
export function parseArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    if (eq > 0) {
      args.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else if (index + 1 < argv.length && !argv[index + 1]!.startsWith('--')) {
      args.set(arg.slice(2), argv[++index]!);
    } else {
      args.set(arg.slice(2), 'true');
    }
  }
  return args;
}

/** Closes the server on SIGTERM/SIGINT and exits normally, so that --cpu-prof writes its profile. */
export function exitOnSignal(close: () => Promise<void>): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent closes our stdin when it goes away: do not outlive it.
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
