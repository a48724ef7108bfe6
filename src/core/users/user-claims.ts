/**
 * The End-User's standard claims (OpenID Connect Core 1.0 §5.1) that Gatehouse keeps, and which
 * of them each scope releases (§5.4). Claims about the user are released at the UserInfo
 * endpoint (§5.3), and also in the ID token unless the client (or the server's default) opts
 * out (`id_token_claims`, src/core/token/issue-tokens.ts).
 *
 * `name` and `email` are fields of the stored user (src/store/store.ts); the rest live in its
 * `claims` object. `updated_at` is maintained by Gatehouse, never taken from input.
 */
import type { User } from '../../store/store.js';
import type { DirectoryUser } from './user-directory.js';
import { UserClaimError } from '../errors.js';

/** OIDC Core §5.1.1 address claim members Gatehouse accepts (all strings). */
export const ADDRESS_FIELDS = ['formatted', 'street_address', 'locality', 'region', 'postal_code', 'country'] as const;

/** OIDC Core §5.4: the claims each scope asks for, limited to the claims Gatehouse keeps. */
export const SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  profile: ['name', 'given_name', 'family_name', 'updated_at'],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

/** The scopes that release claims about the user (§5.4). */
export const CLAIM_SCOPES: ReadonlySet<string> = new Set(Object.keys(SCOPE_CLAIMS));

/** Every §5.1 claim Gatehouse can return about a user, `sub` first. */
export const USER_CLAIMS_SUPPORTED = ['sub', ...Object.values(SCOPE_CLAIMS).flat()];

/** The claim keys a user may be given (config file, CLI), other than name and email. */
export const SETTABLE_CLAIMS = [
  'given_name',
  'family_name',
  'email_verified',
  'phone_number',
  'phone_number_verified',
  'address',
] as const;
export type SettableClaim = (typeof SETTABLE_CLAIMS)[number];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const EMAIL = /^[^\s@]+@[^\s@]+$/;
/** E.164 is RECOMMENDED (§5.1); accepted: digits with an optional leading +, spaces, dots, dashes, parentheses, and an RFC 3966 extension. */
const PHONE = /^\+?[0-9][0-9 ().-]{2,30}(?:;ext=[0-9]+)?$/;

export function isEmailAddress(value: string): boolean {
  return EMAIL.test(value);
}

export function isPhoneNumber(value: string): boolean {
  return PHONE.test(value);
}

/**
 * Validates the settable claims of `input` (unknown keys are the caller's business) and returns
 * them in their stored form. Strings must be non-empty; the `*_verified` claims are booleans;
 * `address` is an object of string members (§5.1.1).
 */
export function validateUserClaims(input: Partial<Record<SettableClaim, unknown>>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const key of ['given_name', 'family_name'] as const) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '')
      throw new UserClaimError(key, `${key} must be a non-empty string`);
    claims[key] = value;
  }
  for (const key of ['email_verified', 'phone_number_verified'] as const) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new UserClaimError(key, `${key} must be true or false`);
    claims[key] = value;
  }
  if (input.phone_number !== undefined) {
    const value = input.phone_number;
    if (typeof value !== 'string' || !isPhoneNumber(value)) {
      throw new UserClaimError(
        'phone_number',
        'phone_number must be a telephone number, preferably in E.164 form such as +1 555 0100 (OIDC Core 5.1)',
      );
    }
    claims['phone_number'] = value;
  }
  if (input.address !== undefined) {
    const value = input.address;
    if (!isRecord(value))
      throw new UserClaimError('address', 'address must be a mapping of address fields (OIDC Core 5.1.1)');
    const address: Record<string, string> = {};
    for (const [member, memberValue] of Object.entries(value)) {
      if (!(ADDRESS_FIELDS as readonly string[]).includes(member)) {
        throw new UserClaimError(
          `address.${member}`,
          `address.${member} is not an address field (expected one of: ${ADDRESS_FIELDS.join(', ')})`,
        );
      }
      if (typeof memberValue !== 'string' || memberValue.trim() === '') {
        throw new UserClaimError(`address.${member}`, `address.${member} must be a non-empty string`);
      }
      address[member] = memberValue;
    }
    if (Object.keys(address).length === 0) throw new UserClaimError('address', 'address must have at least one field');
    claims['address'] = address;
  }
  return claims;
}

/**
 * The user's claims with a fresh `updated_at` (§5.1: seconds since the epoch) when anything
 * changed compared with `previous`, else the previous `updated_at`. Makes re-applying the same
 * config file a no-op.
 */
export function withUpdatedAt(
  next: { name: string | null; email: string | null; claims: Record<string, unknown> },
  previous: User | undefined,
  now: number,
): Record<string, unknown> {
  const { updated_at: previousUpdatedAt, ...previousClaims } = previous?.claims ?? {};
  const unchanged =
    previous !== undefined &&
    previous.name === next.name &&
    previous.email === next.email &&
    canonicalJson(previousClaims) === canonicalJson(withoutUpdatedAt(next.claims));
  const updatedAt = unchanged && typeof previousUpdatedAt === 'number' ? previousUpdatedAt : Math.floor(now / 1000);
  return { ...withoutUpdatedAt(next.claims), updated_at: updatedAt };
}

function withoutUpdatedAt(claims: Record<string, unknown>): Record<string, unknown> {
  const { updated_at: _ignored, ...rest } = claims;
  return rest;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Every claim of the user that Gatehouse can release, `name` and `email` from their fields. */
export function allUserClaims(user: DirectoryUser): Record<string, unknown> {
  const claims: Record<string, unknown> = { ...user.claims };
  delete claims['name'];
  delete claims['email'];
  if (user.name !== null) claims['name'] = user.name;
  if (user.email !== null) claims['email'] = user.email;
  return claims;
}

/**
 * OIDC Core §5.4 and §5.3.2: `sub` (as the client sees it, §8: `subject`), plus the claims the
 * granted scopes ask for. A claim the user does not have is omitted, never sent as null or an
 * empty string.
 */
export function claimsForScopes(
  user: DirectoryUser,
  scope: readonly string[],
  subject: string = user.id,
): Record<string, unknown> {
  const available = allUserClaims(user);
  const released: Record<string, unknown> = { sub: subject };
  for (const scopeValue of scope) {
    for (const claim of SCOPE_CLAIMS[scopeValue] ?? []) {
      const value = available[claim];
      if (value !== undefined && value !== null && value !== '') released[claim] = value;
    }
  }
  return released;
}
