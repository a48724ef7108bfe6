/**
 * The driver's HTTP side: fetch (Node's built-in undici, keep-alive connections) with manual
 * redirects, a small cookie jar, and the checks that turn a wrong answer into an error.
 */

// The HTML form fields the driver reads, parsed as the protocol tests' scripted browser parses them.
export { decodeEntities, hiddenInput } from '../../test/helpers/user-agent.js';

/** A response that is not what a correct server answers: counted as an error. */
export class CheckError extends Error {
  override readonly name = 'CheckError';
}

export function check(condition: unknown, message: () => string): asserts condition {
  if (!condition) throw new CheckError(message());
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export async function send(
  url: string,
  init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; form?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  const response = await fetch(url, {
    method: init.method ?? (init.form === undefined ? 'GET' : 'POST'),
    headers,
    body: init.form,
    redirect: 'manual',
  });
  // Always read the body: it releases the keep-alive connection for the next request.
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

export function basicAuthorization(id: string, secret: string): string {
  // RFC 6749 §2.3.1: form-urlencode both parts first (a no-op for these URL-safe values).
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export function formEncode(fields: Record<string, string | undefined>): string {
  let out = '';
  for (const name in fields) {
    const value = fields[name];
    if (value === undefined) continue;
    if (out !== '') out += '&';
    out += `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  }
  return out;
}

export function parseJson(answer: Answer, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(answer.text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CheckError(`${what}: status ${answer.status}, not a JSON object: ${answer.text.slice(0, 200)}`);
}

/** Cookies of one browser for one origin, with RFC 6265 path matching (enough for these servers). */
export class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  header(url: string): string | undefined {
    const path = new URL(url).pathname;
    let out = '';
    for (const [name, cookie] of this.cookies) {
      if (!pathMatches(path, cookie.path)) continue;
      if (out !== '') out += '; ';
      out += `${name}=${cookie.value}`;
    }
    return out === '' ? undefined : out;
  }

  update(answer: Answer, url: string): void {
    for (const setCookie of answer.headers.getSetCookie()) {
      const [pair, ...attributes] = setCookie.split(';');
      const eq = pair!.indexOf('=');
      if (eq <= 0) continue;
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      let path = defaultPath(url);
      let expired = false;
      for (const attribute of attributes) {
        const [key, ...rest] = attribute.trim().split('=');
        const lower = key!.toLowerCase();
        if (lower === 'path' && rest.join('=').startsWith('/')) path = rest.join('=');
        if (lower === 'max-age' && Number(rest.join('=')) <= 0) expired = true;
        if (lower === 'expires' && Date.parse(rest.join('=')) <= Date.now()) expired = true;
      }
      const key = `${name}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { value, path });
    }
  }

  names(): string[] {
    return [...this.cookies.keys()];
  }
}

function defaultPath(url: string): string {
  const path = new URL(url).pathname;
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** A GET carrying (and keeping) the jar's cookies, without following redirects. */
export async function browse(jar: CookieJar, url: string, init: { form?: string } = {}): Promise<Answer> {
  const cookie = jar.header(url);
  const answer = await send(url, {
    ...(init.form !== undefined ? { form: init.form } : {}),
    headers: cookie ? { cookie } : {},
  });
  jar.update(answer, url);
  return answer;
}

/** The payload of a compact JWS, for the one-time description of what a server issued. */
export function jwtParts(
  token: unknown,
): { header: Record<string, unknown>; payload: Record<string, unknown> } | undefined {
  if (typeof token !== 'string') return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>,
      payload: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>,
    };
  } catch {
    return undefined;
  }
}
