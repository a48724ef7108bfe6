/**
 * Scope handling, RFC 6749 §3.3: a space-delimited list of case-sensitive scope tokens,
 * each made of %x21 / %x23-5B / %x5D-7E.
 */
import { InvalidScope } from './errors.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function parseScope(value: string | undefined): string[] {
  if (value === undefined) return [];
  const tokens = value.split(' ').filter((token) => token !== '');
  for (const token of tokens) {
    if (!SCOPE_TOKEN.test(token)) throw new InvalidScope('scope contains a character not allowed by RFC 6749 3.3');
  }
  return [...new Set(tokens)];
}

/**
 * RFC 6749 §3.3: the server may fully or partially ignore the requested scope; Gatehouse
 * refuses a scope the client is not registered for, so a client learns of a misconfiguration
 * instead of silently receiving less. No scope requested means the client's registered scope.
 */
export function allowedScope(requested: string[], registered: string[]): string[] {
  if (requested.length === 0) return registered;
  const notAllowed = requested.filter((scope) => !registered.includes(scope));
  if (notAllowed.length > 0) throw new InvalidScope(`scope ${notAllowed.join(' ')} is not allowed for this client`);
  return requested;
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(' ');
}

export function isSubset(scopes: readonly string[], of: readonly string[]): boolean {
  return scopes.every((scope) => of.includes(scope));
}
