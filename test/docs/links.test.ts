/**
 * Every relative link of README.md and docs/**\/*.md reaches a file of the repository, and a
 * `#fragment` reaches a heading of the page it names (GitHub's anchors: lower case, punctuation
 * dropped, spaces to hyphens, a repeated heading suffixed -1, -2, ...).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, markdownFiles } from '../helpers/docs.js';

/** The text outside fenced code blocks and inline code, where Markdown links are links. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor of a heading. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} (.+)$/gm)) {
    const base = anchorOf(match[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

const FILES = markdownFiles();

describe('documentation links', () => {
  test('the documentation is README.md and the pages of docs/', () => {
    assert.ok(FILES.includes('README.md'));
    assert.ok(FILES.includes(join('docs', 'README.md')));
    assert.ok(FILES.length > 20, `${FILES.length} pages`);
  });

  test('GitHub anchors: "Protecting an API: `gatehouse-resource`" is #protecting-an-api-gatehouse-resource', () => {
    assert.equal(anchorOf('Protecting an API: `gatehouse-resource`'), 'protecting-an-api-gatehouse-resource');
    assert.equal(anchorOf('TLS, proxies and headers'), 'tls-proxies-and-headers');
  });

  for (const file of FILES) {
    test(`every relative link of ${file} resolves`, () => {
      const markdown = readFileSync(join(REPO_ROOT, file), 'utf8');
      const broken: string[] = [];
      for (const match of prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        const [path, fragment] = target.split('#') as [string, string | undefined];
        const resolved = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)));
        if (!existsSync(join(REPO_ROOT, resolved))) {
          broken.push(`${target}: no file ${resolved}`);
          continue;
        }
        if (fragment !== undefined && resolved.endsWith('.md')) {
          const page = readFileSync(join(REPO_ROOT, resolved), 'utf8');
          if (!anchors(page).has(fragment)) broken.push(`${target}: ${resolved} has no heading #${fragment}`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }
});
