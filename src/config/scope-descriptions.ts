/**
 * A protected resource's `scope_descriptions` in the config file: for scopes the resource lists,
 * a text, or a text per language of the pages; shown on the consent page (src/ui/scopes.ts)
 * instead of the scope's name.
 */
import { SHIPPED_LANGUAGES } from '../ui/i18n.js';

type Fail = (path: string, problem: string) => never;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function nonEmptyText(value: unknown, path: string, fail: Fail): string {
  if (typeof value !== 'string' || value.trim() === '') return fail(path, 'must be a non-empty text');
  return value;
}

export function validateScopeDescriptions(
  value: unknown,
  path: string,
  scopes: readonly string[],
  fail: Fail,
): Record<string, string | Record<string, string>> {
  if (!isRecord(value)) return fail(path, 'must be a mapping of scope to description');
  const descriptions: Record<string, string | Record<string, string>> = {};
  for (const [scope, description] of Object.entries(value)) {
    const at = `${path}.${scope}`;
    if (!scopes.includes(scope)) fail(at, 'describes a scope that this resource does not list in its scopes');
    if (typeof description === 'string') {
      descriptions[scope] = nonEmptyText(description, at, fail);
      continue;
    }
    if (!isRecord(description) || Object.keys(description).length === 0) {
      fail(at, `must be a text, or a mapping of language (${SHIPPED_LANGUAGES.join(', ')}) to text`);
    }
    const perLanguage: Record<string, string> = {};
    for (const [language, text] of Object.entries(description as Record<string, unknown>)) {
      if (!SHIPPED_LANGUAGES.includes(language)) {
        fail(`${at}.${language}`, `is not a language of the pages (${SHIPPED_LANGUAGES.join(', ')})`);
      }
      perLanguage[language] = nonEmptyText(text, `${at}.${language}`, fail);
    }
    descriptions[scope] = perLanguage;
  }
  return descriptions;
}
