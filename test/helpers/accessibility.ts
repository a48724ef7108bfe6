/**
 * axe-core in a real page: evaluates the npm package's axe.min.js in it and runs it, failing on any
 * violation of serious or critical impact (WCAG 2.x A and AA rules, plus axe's best practices).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

declare global {
  interface Window {
    axe?: { run(context?: unknown, options?: unknown): Promise<{ violations: AxeViolation[] }> };
  }
}

/** Runs axe on `page` and asserts no serious or critical violation; `label` names the page in the failure. */
export async function assertNoSeriousAxeViolations(page: Page, label: string): Promise<void> {
  // Evaluated through the DevTools protocol, which the page's CSP (no script-src) does not govern;
  // a <script> tag would be blocked, and loosening the CSP for the test would hide real violations.
  if (!(await page.evaluate(() => window.axe !== undefined))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe!.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => ({ target: node.target })),
    }));
  });
  const serious = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  assert.deepEqual(
    serious.map(
      (violation) =>
        `${violation.impact} ${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`,
    ),
    [],
    `axe-core found serious or critical violations on ${label}`,
  );
}
