/**
 * RFC syntax the verifier checks: scope-tokens (RFC 6749 §3.3), bearer credentials (RFC 6750 §2.1),
 * media types, and where RFC 9728 §3.1 puts a resource's metadata.
 */

/** RFC 6749 §3.3 scope-token: 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Throws a TypeError unless every value is a valid RFC 6749 §3.3 scope-token (a programming error). */
export function assertScopeTokens(scopes: readonly string[]): void {
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) {
      throw new TypeError(`invalid required scope ${JSON.stringify(scope)}: not an RFC 6749 scope-token`);
    }
  }
}

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The RFC 9728 §3.1 metadata URL for a resource identifier, or undefined if it is not an http(s) URL. */
export function protectedResourceMetadataUrl(resource: string): string | undefined {
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/** The media type of a Content-Type header value, lower-cased and without parameters (RFC 9110 §8.3.1). */
export function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The path a resource serves its RFC 9728 metadata at: that of its advertised `resource_metadata`
 * URL (RFC 9728 §3.1: `/.well-known/oauth-protected-resource/v1` for `https://api.example.com/v1`),
 * or the origin's `/.well-known/oauth-protected-resource` when none is known.
 */
export function protectedResourceMetadataPath(resourceMetadataUrl: string | undefined): string {
  return resourceMetadataUrl !== undefined
    ? new URL(resourceMetadataUrl).pathname
    : '/.well-known/oauth-protected-resource';
}

/**
 * The headers of the RFC 9728 metadata response: JSON, and readable from any origin (it is
 * public, and browser-based clients such as MCP inspectors fetch it across origins).
 */
export const METADATA_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'access-control-allow-origin': '*',
} as const;
