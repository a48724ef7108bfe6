/**
 * The two cookies Gatehouse sets, RFC 6265. Both are HttpOnly and SameSite=Lax (the browser
 * sends them on the top-level GET navigations of the authorization flow but not on cross-site
 * POSTs), and Secure when the issuer is https.
 */
export const SESSION_COOKIE = 'gh_session';
export const BROWSER_COOKIE = 'gh_browser';

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    // The first occurrence wins (RFC 6265 §5.4 orders more specific paths first).
    if (name !== '' && !cookies.has(name) && /^[A-Za-z0-9_-]+$/.test(value)) cookies.set(name, value);
  }
  return cookies;
}

export function serializeCookie(name: string, value: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  const attributes = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${options.maxAgeSeconds}`];
  if (options.secure) attributes.push('Secure');
  return attributes.join('; ');
}
