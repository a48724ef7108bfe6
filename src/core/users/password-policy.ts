/**
 * The length rules for secrets a person chooses: user passwords (NIST SP 800-63B §3.1.1.2:
 * memorized secrets chosen by the subscriber are at least 8 characters) and client secrets
 * chosen rather than generated (a generated one has 256 bits, see src/core/secrets.ts).
 */

/** NIST SP 800-63B §3.1.1.2: a subscriber-chosen memorized secret has at least 8 characters. */
export const MIN_PASSWORD_LENGTH = 8;

/** Why `password` is too weak to be accepted, or undefined when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  if (password === '') return 'is empty';
  // Characters, not UTF-16 code units (NIST SP 800-63B §5.1.1.2 counts each Unicode code point as one).
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH)
    return `is ${length} characters long; a password needs at least ${MIN_PASSWORD_LENGTH} (NIST SP 800-63B §3.1.1.2)`;
  return undefined;
}

/**
 * A client secret a person chose (`clients create --secret-stdin`) has at least 32 characters,
 * like the 256-bit secrets Gatehouse generates (43 base64url characters). Config-file
 * client_secret values are not held to it: test and development fixtures use short ones.
 */
export const MIN_CHOSEN_CLIENT_SECRET_LENGTH = 32;
