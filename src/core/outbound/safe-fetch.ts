/**
 * Outbound HTTP requests to URLs that clients chose: back-channel logout endpoints
 * (OpenID Connect Back-Channel Logout 1.0 §2.5), client `jwks_uri` and Client ID Metadata
 * Documents (draft-ietf-oauth-client-id-metadata-document §6, src/core/clients/client-metadata-document.ts). Such a URL may name a service inside the server's network (a cloud metadata
 * endpoint at 169.254.169.254, a Redis on 10.0.0.1:6379, the server itself on 127.1), and the
 * outcome of a request to it would tell whoever registered it which ports are open there
 * (server-side request forgery, OWASP SSRF Prevention Cheat Sheet; RFC 9700 §4.15 for the
 * related open-redirector concern). So every such request goes through `safeFetch`, which:
 *
 *  - resolves the host itself (all its addresses) and refuses the request before connecting when
 *    any address is private, loopback, link-local (including the metadata address), shared,
 *    multicast or otherwise special (see `refusedRange`), unless `allowPrivateAddresses` is set
 *    (development, tests, or an RP on the operator's own network);
 *  - connects to exactly the address it checked (the socket's lookup is answered with it, so a
 *    second DNS answer cannot switch the target: no DNS rebinding) and checks the socket's
 *    remote address again once connected;
 *  - follows no redirect (a 3xx is a failure: the registered URL is the endpoint);
 *  - bounds the whole exchange in time and the response body in size.
 *
 * Every failure is one error class, `OutboundRequestFailed`, whose `reason` is for the log.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { OutboundRequestFailed } from '../errors.js';

export const DEFAULT_OUTBOUND_TIMEOUT_MS = 5000;
export const DEFAULT_OUTBOUND_MAX_RESPONSE_BYTES = 64 * 1024;

/** One resolved address, as `dns.lookup(host, { all: true })` gives it. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses; injectable so tests need no DNS. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

export interface OutboundPolicy {
  /** Allow private, loopback, link-local and the other special-use addresses (default false). */
  allowPrivateAddresses?: boolean;
}

export interface SafeFetchOptions extends OutboundPolicy {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Connecting, sending and receiving the whole response (default 5 s). */
  timeoutMs?: number;
  /** The largest response body accepted (default 64 KiB). */
  maxResponseBytes?: number;
  /** Aborts the request (e.g. on shutdown); the failure then has kind `aborted`. */
  signal?: AbortSignal;
  /** Host name resolution (default: the system resolver, `dns.lookup` with all addresses). */
  resolve?: Resolver;
  /** Refuse plain http (Client ID Metadata Documents are https only). */
  httpsOnly?: boolean;
  /** Establishing the connection (TCP and TLS) alone; default: the whole `timeoutMs`. */
  connectTimeoutMs?: number;
  /** Certificate authorities trusted instead of Node's (PEM): tests with a self-signed server. */
  ca?: string;
}

export interface SafeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The address that was connected to. */
  address: string;
}

/**
 * How long a response may be kept, from its Cache-Control (RFC 9111 §5.2.2.1 max-age), in
 * milliseconds within [minMs, maxMs]: `defaultMs` without a max-age, `minMs` with no-store or
 * no-cache (kept the shortest allowed time rather than fetched per request).
 */
export function responseLifetimeMs(
  cacheControl: string | string[] | undefined,
  bounds: { minMs: number; maxMs: number; defaultMs: number },
): number {
  const text = Array.isArray(cacheControl) ? cacheControl.join(',') : cacheControl;
  if (text === undefined) return bounds.defaultMs;
  if (/(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)/i.test(text)) return bounds.minMs;
  const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(text);
  if (!maxAge) return bounds.defaultMs;
  return Math.min(bounds.maxMs, Math.max(bounds.minMs, Number(maxAge[1]) * 1000));
}

// --- Address classification --------------------------------------------------------------------

/** IPv4 special-purpose ranges that must not be reached (RFC 6890 and the IANA registry). */
const REFUSED_V4: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'this network (RFC 1122 §3.2.1.3)'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback (RFC 1122 §3.2.1.3)'],
  ['169.254.0.0', 16, 'link-local, incl. cloud metadata 169.254.169.254 (RFC 3927)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments (RFC 6890)'],
  ['192.0.2.0', 24, 'documentation (RFC 5737)'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (RFC 2544)'],
  ['198.51.100.0', 24, 'documentation (RFC 5737)'],
  ['203.0.113.0', 24, 'documentation (RFC 5737)'],
  ['224.0.0.0', 4, 'multicast (RFC 5771)'],
  ['240.0.0.0', 4, 'reserved (RFC 1112), incl. broadcast 255.255.255.255'],
];

function v4ToInt(address: string): number {
  return address.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

function v4InRange(value: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(value / size) === Math.floor(v4ToInt(base) / size);
}

function refusedV4(value: number): string | null {
  for (const [base, bits, name] of REFUSED_V4) if (v4InRange(value, base, bits)) return `${name}`;
  return null;
}

/** The eight 16-bit groups of an IPv6 address (with an embedded dotted IPv4 tail, if any). */
function v6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const value = v4ToInt(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${Math.floor(value / 65536).toString(16)}:${(value % 65536).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups].map((group) =>
    parseInt(group, 16),
  );
}

/**
 * The name of the refused range `address` (an IP address as `net.isIP` accepts it) falls in, or
 * null when it is an ordinary public address.
 */
export function refusedRange(address: string): string | null {
  const version = isIP(address);
  if (version === 4) return refusedV4(v4ToInt(address));
  if (version !== 6) return 'not an IP address';
  const g = v6Groups(address);
  const embeddedV4 = g[6]! * 65536 + g[7]!;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((group) => group === 0);
  if (zeros(0, 8)) return 'unspecified (RFC 4291 §2.5.2)';
  if (zeros(0, 7) && g[7] === 1) return 'loopback (RFC 4291 §2.5.3)';
  // IPv4-mapped ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) and IPv4-compatible ::a.b.c.d reach the IPv4 address.
  if (zeros(0, 5) && g[5] === 0xffff)
    return refusedV4(embeddedV4) === null ? null : `IPv4-mapped ${refusedV4(embeddedV4)}`;
  if (zeros(0, 6)) return 'IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)';
  // NAT64 64:ff9b::/96 (RFC 6052) reaches the embedded IPv4 address; 64:ff9b:1::/48 is local-use (RFC 8215).
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6))
    return refusedV4(embeddedV4) === null ? null : `NAT64 of ${refusedV4(embeddedV4)}`;
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'local-use NAT64 (RFC 8215)';
  if (g[0] === 0x100 && zeros(1, 4)) return 'discard-only (RFC 6666)';
  if (g[0] === 0x2001 && g[1] === 0x0db8) return 'documentation (RFC 3849)';
  // 6to4 2002::/16 embeds an IPv4 address in groups 1-2 (RFC 3056 §2).
  if (g[0] === 0x2002) {
    const inner = refusedV4(g[1]! * 65536 + g[2]!);
    return inner === null ? null : `6to4 of ${inner}`;
  }
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique local (RFC 4193)';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local (RFC 4291 §2.5.6)';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'site-local (deprecated, RFC 3879)';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast (RFC 4291 §2.7)';
  return null;
}

/** The host of a parsed URL as a bare name or address (URL keeps IPv6 literals in brackets). */
export function urlHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Why `url` is refused without resolving anything, or null: only http(s) without user
 * information, and an IP literal (after WHATWG URL normalisation, so `127.1`, `0x7f.1` and
 * `2130706433` are all 127.0.0.1) must not be in a refused range. For registration time.
 */
export function staticRefusal(url: URL, policy: OutboundPolicy = {}): string | null {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `scheme ${url.protocol} is not http or https`;
  if (url.username !== '' || url.password !== '') return 'the URL contains user information';
  const host = urlHost(url);
  if (host === '') return 'the URL has no host';
  if (isIP(host) !== 0 && !policy.allowPrivateAddresses) {
    const range = refusedRange(host);
    if (range !== null) return `address ${host} is ${range}`;
  }
  return null;
}

// --- The request --------------------------------------------------------------------------------

/** Sends one request to `target` under the rules above. */
export async function safeFetch(target: string | URL, options: SafeFetchOptions = {}): Promise<SafeResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_OUTBOUND_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_OUTBOUND_MAX_RESPONSE_BYTES;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new OutboundRequestFailed('refused', 'not an absolute URL');
  }
  const refusal =
    options.httpsOnly && url.protocol !== 'https:'
      ? `scheme ${url.protocol} is not https`
      : staticRefusal(url, options);
  if (refusal !== null) throw new OutboundRequestFailed('refused', refusal);
  if (options.signal?.aborted) throw new OutboundRequestFailed('aborted', 'aborted before sending');

  const deadline = Date.now() + timeoutMs;
  const host = urlHost(url);
  let addresses: ResolvedAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await withDeadline(
        (options.resolve ?? systemResolver)(host),
        deadline,
        `no DNS answer for ${host} within ${timeoutMs} ms`,
      );
    } catch (error) {
      if (error instanceof OutboundRequestFailed) throw error;
      throw new OutboundRequestFailed(
        'network',
        `cannot resolve ${host}: ${(error as { code?: string }).code ?? (error as Error).message}`,
      );
    }
    if (addresses.length === 0) throw new OutboundRequestFailed('network', `${host} has no address`);
  }
  if (!options.allowPrivateAddresses) {
    // Any refused answer refuses the host: a name that resolves to an internal address is not an
    // endpoint on the internet, whichever of its addresses a connection would pick.
    for (const { address } of addresses) {
      const range = refusedRange(address);
      if (range !== null) throw new OutboundRequestFailed('refused', `${host} resolves to ${address}, ${range}`);
    }
  }
  const chosen = addresses[0]!;
  return send(url, chosen, options, deadline, timeoutMs, maxBytes);
}

function withDeadline<T>(promise: Promise<T>, deadline: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new OutboundRequestFailed('timeout', message)),
      Math.max(deadline - Date.now(), 0),
    );
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });
}

function send(
  url: URL,
  chosen: ResolvedAddress,
  options: SafeFetchOptions,
  deadline: number,
  timeoutMs: number,
  maxBytes: number,
): Promise<SafeResponse> {
  // The socket connects to the checked address whatever name it is asked to resolve.
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all)
      (callback as (err: null, addresses: ResolvedAddress[]) => void)(null, [chosen]);
    else callback(null, chosen.address, chosen.family);
  };
  const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SafeResponse>((resolve, reject) => {
    let settled = false;
    let request: ClientRequest | undefined;
    const fail = (error: OutboundRequestFailed): void => {
      if (settled) return;
      settled = true;
      cleanup();
      request?.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new OutboundRequestFailed('timeout', `no complete response within ${timeoutMs} ms`)),
      Math.max(deadline - Date.now(), 0),
    );
    const connectTimer =
      options.connectTimeoutMs === undefined
        ? undefined
        : setTimeout(
            () => fail(new OutboundRequestFailed('timeout', `no connection within ${options.connectTimeoutMs} ms`)),
            Math.min(options.connectTimeoutMs, Math.max(deadline - Date.now(), 0)),
          );
    const onAbort = (): void => fail(new OutboundRequestFailed('aborted', 'aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => {
      clearTimeout(timer);
      clearTimeout(connectTimer);
      options.signal?.removeEventListener('abort', onAbort);
    };

    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    request = requestFn(url, {
      method: options.method ?? 'GET',
      headers,
      lookup: pinned,
      // A fresh connection each time: a pooled socket would skip the checks.
      agent: false,
      // TLS still verifies the certificate against the URL's host name.
      ...(url.protocol === 'https:' && isIP(urlHost(url)) === 0 ? { servername: urlHost(url) } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
    request.on('socket', (socket) => {
      // https: connected once the TLS handshake is done; http: once TCP is.
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      socket.once('connect', () => {
        // Belt and braces: the connected peer is the address that was checked.
        const remote = socket.remoteAddress ?? '';
        const normalised = remote.startsWith('::ffff:') && isIP(remote.slice(7)) === 4 ? remote.slice(7) : remote;
        if (normalised !== chosen.address || (!options.allowPrivateAddresses && refusedRange(normalised) !== null)) {
          fail(
            new OutboundRequestFailed('refused', `connected to ${remote}, not the checked address ${chosen.address}`),
          );
        }
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) =>
      fail(new OutboundRequestFailed('network', error.code ?? error.message)),
    );
    request.on('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        response.resume();
        fail(new OutboundRequestFailed('redirect', `HTTP ${status}: redirects are not followed`));
        return;
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        fail(
          new OutboundRequestFailed('too-large', `response body of ${declared} bytes is over the limit of ${maxBytes}`),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes)
          fail(new OutboundRequestFailed('too-large', `response body is over the limit of ${maxBytes} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', (error: NodeJS.ErrnoException) =>
        fail(new OutboundRequestFailed('network', error.code ?? error.message)),
      );
      response.on('end', () => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve({ status, headers: response.headers, body: Buffer.concat(chunks), address: chosen.address });
      });
    });
    request.end(options.body);
  });
}
