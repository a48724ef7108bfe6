/**
 * Plain-language descriptions of scopes for the consent page. The OpenID Connect scopes are
 * those of OpenID Connect Core 1.0 §5.4 (profile, email, address, phone) and §11 (offline_access).
 * Returned strings are plain text: the page template escapes them.
 */
const DESCRIPTIONS: ReadonlyMap<string, string> = new Map([
  ['openid', 'Confirm who you are (your account identifier)'],
  ['profile', 'See your basic profile information, such as your name, username and picture'],
  ['email', 'See your email address and whether it is verified'],
  ['address', 'See your postal address'],
  ['phone', 'See your phone number and whether it is verified'],
  ['offline_access', 'Stay connected when you are not using the app'],
]);

export function isKnownScope(scope: string): boolean {
  return DESCRIPTIONS.has(scope);
}

export function describeScope(scope: string): string {
  return DESCRIPTIONS.get(scope) ?? `Use the permission “${scope}”`;
}
