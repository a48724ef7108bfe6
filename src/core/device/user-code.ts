/**
 * User codes, RFC 8628 §6.1: short, typed by a person on another device, so drawn from an
 * alphabet without look-alikes (consonants only: no vowels, so no words; no digits, so no 0/O or
 * 1/I confusion) and compared without regard to case, dashes or spaces.
 */
import { randomInt } from 'node:crypto';
import { sha256Base64Url } from '../secrets.js';

/** RFC 8628 §6.1: "the base-20 character set `BCDFGHJKLMNPQRSTVWXZ`". */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
/** 20^8 codes, about 34.5 bits: §6.1's example, brute force limited per §5.1 (limits.user_code_*). */
export const USER_CODE_LENGTH = 8;

/** A new user code as shown to the user: `XXXX-XXXX`. */
export function newUserCode(): string {
  let code = '';
  for (let index = 0; index < USER_CODE_LENGTH; index++)
    code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return displayUserCode(code);
}

/**
 * RFC 8628 §6.1: what the user typed as the code it can stand for (upper case, without dashes
 * and white space), or undefined when it cannot be a user code at all (wrong length or a
 * character outside the alphabet), which the verification page refuses without a lookup.
 */
export function normaliseUserCode(input: string): string | undefined {
  const code = input.replace(/[\s-]/g, '').toUpperCase();
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const character of code) if (!USER_CODE_ALPHABET.includes(character)) return undefined;
  return code;
}

/** What the store keeps of a user code: the hash of its normalised form. */
export function userCodeHash(normalised: string): string {
  return sha256Base64Url(`user_code:${normalised}`);
}

/** The normalised code as the user sees it on the device: `BCDFGHJK` as `BCDF-GHJK`. */
export function displayUserCode(normalised: string): string {
  return `${normalised.slice(0, 4)}-${normalised.slice(4)}`;
}
