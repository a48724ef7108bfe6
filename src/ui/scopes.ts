/**
 * Plain-language descriptions of scopes for the consent page. The OpenID Connect scopes are
 * those of OpenID Connect Core 1.0 §5.4 (profile, email, address, phone) and §11
 * (offline_access); each built-in description says exactly what the scope releases
 * (src/core/users/user-claims.ts SCOPE_CLAIMS: `profile` is name, given_name, family_name and
 * updated_at). The scopes of a protected resource are described in its config
 * (`scope_descriptions`, src/ui/page-kit.ts); any other scope is shown by its name.
 * Returned strings are plain text: the page template escapes them.
 */
import { ENGLISH, type MessageKey, type Translator } from './i18n.js';
import type { ScopeDescription } from './page-kit.js';

const BUILT_IN: ReadonlyMap<string, MessageKey> = new Map([
  ['openid', 'scope.openid'],
  ['profile', 'scope.profile'],
  ['email', 'scope.email'],
  ['address', 'scope.address'],
  ['phone', 'scope.phone'],
  ['offline_access', 'scope.offline_access'],
] as const);

export function isKnownScope(scope: string): boolean {
  return BUILT_IN.has(scope);
}

/** A configured description in the page's language, else English, else its first language. */
function configuredText(description: ScopeDescription, language: string): string {
  if (typeof description === 'string') return description;
  return description[language] ?? description['en'] ?? Object.values(description)[0]!;
}

/** The English built-in description (or the fallback) of a scope. */
export function describeScope(scope: string): string {
  return describeScopeIn(scope, ENGLISH, new Map());
}

/** The description of a scope in `t`'s language: the configured one, the built-in one, or the fallback naming the scope. */
export function describeScopeIn(
  scope: string,
  t: Translator,
  configured: ReadonlyMap<string, ScopeDescription>,
): string {
  const description = configured.get(scope);
  if (description !== undefined) return configuredText(description, t.language);
  const key = BUILT_IN.get(scope);
  return key !== undefined ? t.text(key) : t.text('scope.other', { scope });
}
