/**
 * A scripted browser for protocol tests: follows redirects by hand, keeps cookies, and fills in
 * the login and consent forms through their documented field names (username, password,
 * csrf_token, decision). Real-browser tests use Chromium (test/ui/browser.test.ts).
 */
export interface PageResponse {
  status: number;
  url: string;
  location: string | null;
  headers: Headers;
  body: string;
}

export class UserAgent {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly origin: string) {}

  /** Sent with every request, e.g. X-Forwarded-For to a server with trust_proxy. */
  readonly extraHeaders: Record<string, string> = {};

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<PageResponse> {
    const absolute = new URL(url, this.origin).href;
    const headers: Record<string, string> = { ...this.extraHeaders };
    const sameOrigin = new URL(absolute).origin === this.origin;
    if (sameOrigin && this.cookies.size > 0)
      headers['cookie'] = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(absolute, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    if (sameOrigin) {
      for (const setCookie of response.headers.getSetCookie()) {
        const [pair] = setCookie.split(';');
        const eq = pair!.indexOf('=');
        this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
    }
    return {
      status: response.status,
      url: absolute,
      location: response.headers.get('location'),
      headers: response.headers,
      body: await response.text(),
    };
  }

  /** GETs a URL and follows same-origin redirects; stops at a page or at a redirect leaving the server. */
  async navigate(url: string): Promise<PageResponse> {
    let response = await this.request(url);
    for (let hops = 0; hops < 10 && response.location !== null; hops++) {
      const next = new URL(response.location, response.url);
      if (next.origin !== this.origin) return response;
      response = await this.request(next.href);
    }
    return response;
  }

  /** Submits the page's form; follows same-origin redirects afterwards. */
  async submit(page: PageResponse, fields: Record<string, string>): Promise<PageResponse> {
    const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
    if (!action) throw new Error(`no form on page ${page.url}: ${page.body.slice(0, 200)}`);
    const csrf = hiddenInput(page.body, 'csrf_token');
    const response = await this.request(new URL(decodeEntities(action), page.url).href, {
      form: { ...(csrf ? { csrf_token: csrf } : {}), ...fields },
    });
    if (response.location !== null && new URL(response.location, response.url).origin === this.origin)
      return this.navigate(new URL(response.location, response.url).href);
    return response;
  }

  /**
   * Runs the resource owner's part of an authorization: log in if asked, consent if asked.
   * Returns the final response: a redirect to the client, or a form_post page.
   */
  async authorize(
    authorizationUrl: string,
    user: { username: string; password: string },
    decision: 'allow' | 'deny' = 'allow',
  ): Promise<PageResponse> {
    let page = await this.navigate(authorizationUrl);
    if (isLoginPage(page)) page = await this.submit(page, { username: user.username, password: user.password });
    if (isConsentPage(page)) page = await this.submit(page, { decision });
    return page;
  }
}

export function isLoginPage(page: PageResponse): boolean {
  return page.status === 200 && /name="password"/.test(page.body);
}

export function isConsentPage(page: PageResponse): boolean {
  return page.status === 200 && /name="decision"/.test(page.body);
}

export function hiddenInput(body: string, name: string): string | undefined {
  const match =
    new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(body) ??
    new RegExp(`<input[^>]*value="([^"]*)"[^>]*name="${name}"`).exec(body);
  return match ? decodeEntities(match[1]!) : undefined;
}

/** The fields of a form_post response page. */
export function formPostFields(body: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[decodeEntities(match[1]!)] = decodeEntities(match[2]!);
  return fields;
}

export function decodeEntities(text: string): string {
  return text.replace(/&(#x?[0-9a-fA-F]+|amp|lt|gt|quot|apos);/g, (_all, entity: string) => {
    if (entity === 'amp') return '&';
    if (entity === 'lt') return '<';
    if (entity === 'gt') return '>';
    if (entity === 'quot') return '"';
    if (entity === 'apos') return "'";
    return String.fromCodePoint(
      entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10),
    );
  });
}
