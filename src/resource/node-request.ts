/**
 * Node request bridge (structural types only, so this module needs no Node or framework import):
 * what the Fastify and Express adapters hand to the verifier.
 */

/** The parts of a Node `IncomingMessage` the adapters use. */
export interface NodeRequestLike {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  headersDistinct?: Record<string, string[] | undefined>;
}

/**
 * Builds the minimal Web `Request` the verifier reads: method, `Authorization` and `Content-Type`, and (for a
 * form-encoded body) the body text. Repeated `Authorization` headers are joined, so they fail the
 * single-token syntax check instead of one silently winning.
 */
export function webRequestFromNode(req: NodeRequestLike, formBody?: string): Request {
  const headers = new Headers();
  const authorization = req.headersDistinct?.['authorization'] ?? req.headers['authorization'];
  const values = Array.isArray(authorization) ? authorization : authorization === undefined ? [] : [authorization];
  if (values.length > 0) headers.set('authorization', values.join(', '));
  const contentType = req.headers['content-type'];
  if (typeof contentType === 'string') headers.set('content-type', contentType);
  const method = (req.method ?? 'GET').toUpperCase();
  const withBody = formBody !== undefined && method !== 'GET' && method !== 'HEAD';
  return new Request('http://resource.invalid/', { method, headers, ...(withBody ? { body: formBody } : {}) });
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
