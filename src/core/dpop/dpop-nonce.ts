/**
 * DPoP server nonces, RFC 9449 §8 (authorization server) and §9 (resource server).
 *
 * Stateless, so that every instance of a scaled-out Gatehouse accepts every other's nonces
 * without a shared store: a nonce is the HMAC, under a key derived from GATEHOUSE_SECRET, of
 * the number of the current time window. The nonce of the current window and of the one
 * before are accepted, so a nonce lives between one and two windows; a new one is handed out
 * with each response (`DPoP-Nonce`), which is how §8.2 says nonces are rotated. A proof's `jti`
 * stays single-use (src/core/dpop/dpop-proof.ts); the nonce bounds how long ago a proof could
 * have been made, whatever the client's clock says (§11.1).
 */
import { safeEqual, secretHmac } from '../secrets.js';

/** How long a nonce window lasts: a nonce is accepted for between one and two of them. */
export const DPOP_NONCE_WINDOW_MS = 5 * 60 * 1000;

const PURPOSE = 'dpop-nonce';

/** The nonce to hand out at `now` (the `DPoP-Nonce` header value). */
export function currentDpopNonce(secret: string, now: number): string {
  return nonceOfWindow(secret, Math.floor(now / DPOP_NONCE_WINDOW_MS));
}

/** Whether `nonce` was handed out in the current window or the one before. */
export function isFreshDpopNonce(secret: string, nonce: string, now: number): boolean {
  const window = Math.floor(now / DPOP_NONCE_WINDOW_MS);
  return safeEqual(nonce, nonceOfWindow(secret, window)) || safeEqual(nonce, nonceOfWindow(secret, window - 1));
}

function nonceOfWindow(secret: string, window: number): string {
  // 16 bytes of the HMAC are plenty to be unguessable and keep the header short.
  return secretHmac(secret, PURPOSE, String(window)).slice(0, 22);
}
