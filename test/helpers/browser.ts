/**
 * A real browser for the UI tests: Debian's Chromium (/usr/bin/chromium) driven by
 * playwright-core. Nothing listens at the client's origin (http://127.0.0.1:9000), so every
 * request to it is intercepted with `page.route` and answered with a tiny page; the requests
 * (URL, method, form body) are recorded so tests can assert what the authorization server sent.
 *
 * Every page also records Content Security Policy problems two ways: console messages that
 * mention "Content Security Policy" (Chromium logs every blocked script, style, form action and
 * frame that way) and `securitypolicyviolation` events, reported by an init script through an
 * exposed binding (both are injected over CDP, so the page's own CSP does not block them).
 */
import { chromium, type Browser, type BrowserContext, type Page, type Route } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CLIENT_ORIGIN = 'http://127.0.0.1:9000';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A request the browser sent to the client's origin. */
export interface ClientRequest {
  url: URL;
  method: string;
  contentType: string | undefined;
  /** The raw body of a POST (form_post responses), else null. */
  body: string | null;
}

export interface CspReport {
  source: 'console' | 'event';
  text: string;
  pageUrl: string;
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Every request to CLIENT_ORIGIN, in order. */
  clientRequests: ClientRequest[];
  /** Content Security Policy console messages and violation events, in order. */
  cspReports: CspReport[];
  /** All console messages, for failure messages. */
  consoleMessages: string[];
  close(): Promise<void>;
}

/** Pages served at CLIENT_ORIGIN by path (e.g. `/frame.html`). */
export type ClientPages = Record<string, string>;

export const CALLBACK_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Client callback</title></head><body><p id="callback">Callback received</p></body></html>';

declare global {
  interface Window {
    __gatehouseReportCsp?: (text: string) => void;
  }
}

export interface BrowserSessionOptions {
  /** Pages served at CLIENT_ORIGIN by path; any other path gets CALLBACK_PAGE. */
  clientPages?: ClientPages;
  /** Receives every CSP report too (to check "none across the flows"). */
  cspSink?: CspReport[];
  /**
   * Browser permissions for the context. Chromium's Local Network Access checks treat a page
   * fulfilled by `page.route` as public, and block its subresource requests (iframes included)
   * to loopback addresses unless `local-network-access` is granted.
   */
  permissions?: string[];
}

/** A fresh browser context (no cookies) with one page, the client's origin intercepted, and CSP monitoring. */
export async function openBrowserSession(
  browser: Browser,
  options: BrowserSessionOptions = {},
): Promise<BrowserSession> {
  const clientPages = options.clientPages ?? {};
  const sink = options.cspSink;
  const context = await browser.newContext({
    viewport: { width: 1024, height: 768 },
    permissions: options.permissions ?? [],
  });
  context.setDefaultTimeout(5_000);
  const clientRequests: ClientRequest[] = [];
  const cspReports: CspReport[] = [];
  const consoleMessages: string[] = [];
  const report = (entry: CspReport) => {
    cspReports.push(entry);
    sink?.push(entry);
  };

  await context.exposeBinding('__gatehouseReportCsp', ({ frame }, text: string) => {
    report({ source: 'event', text, pageUrl: frame.url() });
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__gatehouseReportCsp?.(
        `${event.violatedDirective} blocked ${event.blockedURI || '(inline)'} on ${event.documentURI}`,
      );
    });
  });

  const page = await context.newPage();
  page.on('console', (message) => {
    const text = message.text();
    consoleMessages.push(`[${message.type()}] ${text}`);
    if (/Content Security Policy/i.test(text)) report({ source: 'console', text, pageUrl: page.url() });
  });

  await page.route(`${CLIENT_ORIGIN}/**`, async (route: Route) => {
    const request = route.request();
    const url = new URL(request.url());
    clientRequests.push({
      url,
      method: request.method(),
      contentType: request.headers()['content-type'],
      body: request.postData(),
    });
    await route.fulfill({
      status: 200,
      contentType: 'text/html; charset=utf-8',
      body: clientPages[url.pathname] ?? CALLBACK_PAGE,
    });
  });

  return {
    context,
    page,
    clientRequests,
    cspReports,
    consoleMessages,
    close: () => context.close(),
  };
}
