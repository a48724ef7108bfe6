/**
 * Proof Key for Code Exchange, RFC 7636, S256 only (RFC 9700 §2.1.1: `plain` is not allowed).
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { InvalidGrant, InvalidRequest } from './errors.js';

/** RFC 7636 §4.1: code_verifier = 43*128unreserved. */
const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;
/** RFC 7636 §4.2: S256 challenge = BASE64URL(SHA256(verifier)), 43 characters without padding. */
const S256_CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function s256Challenge(verifier: string): string {
  // The verifier is ASCII (VERIFIER_PATTERN), so its UTF-8 bytes, which crypto.hash takes, are its ASCII.
  return hash('sha256', verifier, 'base64url');
}

/**
 * RFC 7636 §4.3, §4.4.1: validates the challenge parameters of an authorization request.
 * Returns the challenge, or null when none was sent and none is required.
 */
export function parseCodeChallenge(
  challenge: string | undefined,
  method: string | undefined,
  required: boolean,
): { codeChallenge: string; codeChallengeMethod: 'S256' } | null {
  if (challenge === undefined) {
    if (method !== undefined) throw new InvalidRequest('code_challenge_method without code_challenge');
    if (required) throw new InvalidRequest('code_challenge is required (PKCE, RFC 7636 and RFC 9700 2.1.1)');
    return null;
  }
  // RFC 7636 §4.3 defaults the method to plain, which RFC 9700 §2.1.1 says not to use.
  if (method === undefined) throw new InvalidRequest('code_challenge_method is required and must be S256');
  if (method !== 'S256') throw new InvalidRequest(`code_challenge_method ${method} is not supported, use S256`);
  if (!S256_CHALLENGE_PATTERN.test(challenge)) throw new InvalidRequest('code_challenge is not a valid S256 challenge');
  return { codeChallenge: challenge, codeChallengeMethod: 'S256' };
}

/**
 * RFC 7636 §4.6 and RFC 9700 §4.8.2: checks the verifier sent to the token endpoint against the
 * challenge bound to the code. A verifier without a challenge is refused (PKCE downgrade), and
 * a challenge without a verifier too.
 */
export function verifyCodeVerifier(verifier: string | undefined, challenge: string | null): void {
  if (challenge === null) {
    if (verifier !== undefined) {
      throw new InvalidGrant('code_verifier sent but the authorization request had no code_challenge');
    }
    return;
  }
  if (verifier === undefined) throw new InvalidGrant('code_verifier is required for this code');
  if (!VERIFIER_PATTERN.test(verifier)) throw new InvalidGrant('code_verifier is not 43 to 128 unreserved characters');
  const expected = Buffer.from(challenge);
  const actual = Buffer.from(s256Challenge(verifier));
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new InvalidGrant('code_verifier does not match code_challenge');
  }
}
