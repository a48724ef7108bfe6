/** CORS requests of a browser-based client, sent with plain `fetch`. */

/**
 * A CORS-preflight request (Fetch Standard §3.2.2): OPTIONS to `url` from `origin`, asking
 * whether `method` may follow, with `requestHeaders` (Access-Control-Request-Headers) when given.
 * The body is read, so the connection is free again.
 */
export async function preflight(
  url: string | URL,
  origin: string,
  method: string,
  requestHeaders?: string,
): Promise<Response> {
  const headers: Record<string, string> = { origin, 'access-control-request-method': method };
  if (requestHeaders !== undefined) headers['access-control-request-headers'] = requestHeaders;
  const response = await fetch(url, { method: 'OPTIONS', headers });
  await response.arrayBuffer();
  return response;
}
