/**
 * What every page in the branding and language tests must pass, in Chromium: axe-core finds no
 * violation of serious or critical impact, the page reported no Content Security Policy
 * violation (console or `securitypolicyviolation`, see ./browser.ts), and a full-page screenshot
 * is kept in test-output/screenshots/ for review.
 *
 * axe-core is evaluated over the DevTools protocol (page.evaluate), which the page's CSP does not
 * govern: a `<script>` tag injected with page.addScriptTag would itself be blocked by the pages'
 * `default-src 'none'` and reported as a violation.
 */
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { BrowserSession } from './browser.js';

export const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
const AXE_SOURCE = readFileSync(
  fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url)),
  'utf8',
);

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's serious and critical violations on the page (WCAG 2.x A and AA rules). */
export async function axeViolations(s: BrowserSession): Promise<AxeViolation[]> {
  await s.page.evaluate(AXE_SOURCE);
  const violations = await s.page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (options: unknown) => Promise<{ violations: unknown[] }> } })
      .axe;
    const result = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations as AxeViolation[];
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Axe, CSP and a screenshot named `name`; `expectLang`: the document's lang attribute. */
export async function checkPage(s: BrowserSession, name: string, expectLang?: string): Promise<void> {
  await s.page.waitForLoadState('load');
  if (expectLang !== undefined) {
    assert.equal(await s.page.getAttribute('html', 'lang'), expectLang, `${name}: <html lang>`);
  }
  const violations = await axeViolations(s);
  assert.deepEqual(
    violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `${name}: no serious or critical axe-core violation`,
  );
  assert.deepEqual(
    s.cspReports.map((r) => r.text),
    [],
    `${name}: no Content Security Policy violation`,
  );
  mkdirSync(SCREENSHOTS, { recursive: true });
  await s.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** An authorization request URL for a registered client (PKCE S256, state, nonce). */
export function authorizeUrl(
  base: string,
  client: { client_id: string; redirect_uri: string; scope: string },
  extra: Record<string, string> = {},
): URL {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL('authorize', base.endsWith('/') ? base : `${base}/`);
  const params = {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uri,
    scope: client.scope,
    state: randomBytes(8).toString('base64url'),
    nonce: randomBytes(8).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url;
}
