/**
 * Node request bridge (structural types only, so this module needs no Node or framework import):
 * what the Fastify and Express adapters hand to the verifier.
 */

/** The parts of a Node `IncomingMessage` the adapters use. */
export interface NodeRequestLike {
  method?: string | undefined;
  url?: string | undefined;
  /** Express: the URL before a mount path was stripped from `url`. */
  originalUrl?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  headersDistinct?: Record<string, string[] | undefined>;
  /** The connection: a TLS socket (`encrypted: true`) means https. */
  socket?: unknown;
}

/** RFC 9110 §7.2 Host: a reg-name or IPv4 address, or an IPv6 literal, and an optional port. */
const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The URL the client addressed, as far as the request tells: `https` on a TLS connection (else
 * `http`), the Host header, and the path with its query (`originalUrl` under an Express mount).
 * A missing or malformed Host gives the host `resource.invalid`. Behind a TLS-terminating proxy
 * the scheme and host seen here are the proxy's: set the verifier's `dpop.origin` so that the
 * DPoP `htu` check (RFC 9449 §4.3) compares with the externally visible origin instead.
 */
export function requestUrl(req: NodeRequestLike): string {
  const path = req.originalUrl ?? req.url ?? '/';
  // Origin-form only (RFC 9112 §3.2.1); anything else (absolute-form, `*`) is drawn as `/`.
  const target = path.startsWith('/') ? path : '/';
  const host = req.headers['host'];
  const socket = req.socket as { encrypted?: unknown } | null | undefined;
  const scheme = typeof socket === 'object' && socket !== null && socket.encrypted === true ? 'https' : 'http';
  const authority = typeof host === 'string' && HOST.test(host) ? host : 'resource.invalid';
  try {
    return new URL(`${scheme}://${authority}${target}`).href;
  } catch {
    return `${scheme}://resource.invalid/`;
  }
}

/**
 * Builds the minimal Web `Request` the verifier reads: the URL the client addressed (requestUrl),
 * method, `Authorization` and `Content-Type`, and (for a form-encoded body) the body text.
 * Repeated `Authorization` headers are joined, so they fail the single-token syntax check
 * instead of one silently winning.
 */
export function webRequestFromNode(req: NodeRequestLike, formBody?: string): Request {
  const headers = new Headers();
  const authorization = req.headersDistinct?.['authorization'] ?? req.headers['authorization'];
  const values = Array.isArray(authorization) ? authorization : authorization === undefined ? [] : [authorization];
  if (values.length > 0) headers.set('authorization', values.join(', '));
  const contentType = req.headers['content-type'];
  if (typeof contentType === 'string') headers.set('content-type', contentType);
  // RFC 9449 §4.1: the proof travels in the DPoP header.
  const dpop = req.headers['dpop'];
  if (dpop !== undefined) headers.set('dpop', Array.isArray(dpop) ? dpop.join(', ') : dpop);
  const method = (req.method ?? 'GET').toUpperCase();
  const withBody = formBody !== undefined && method !== 'GET' && method !== 'HEAD';
  return new Request(requestUrl(req), { method, headers, ...(withBody ? { body: formBody } : {}) });
}

/**
 * Turns a body parsed by a framework back into form-encoded text: a string or bytes as is; a plain object's
 * string (or string-array) values. Anything else yields undefined (no body token).
 */
export function formBodyFromParsed(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  if (body instanceof URLSearchParams) return body.toString();
  if (body === null || typeof body !== 'object') return undefined;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === 'string') params.append(name, value);
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') params.append(name, item);
  }
  return params.toString();
}
