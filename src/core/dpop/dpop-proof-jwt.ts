/**
 * The checks of a DPoP proof JWT that need nothing but the request, RFC 9449 §4.3, shared by the
 * authorization server (./dpop-proof.ts adds the server nonce and single use of `jti`) and by
 * `gatehouse-resource` (src/resource), which therefore imports only `jose` and `node:crypto`
 * through this file.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';

/**
 * RFC 9449 §4.3 check 5: asymmetric algorithms only, never `none` or an HMAC. Published as
 * `dpop_signing_alg_values_supported` (§5.1).
 */
export const DPOP_SIGNING_ALGS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;

/** How far in the future a proof's `iat` may lie (clock skew, §11.1). */
export const DPOP_FUTURE_LEEWAY_SECONDS = 10;

/** The members of a JWK that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A proof refused by a check of §4.3; `reason` says which, for `error_description`. */
export class DpopProofRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DpopProofRefused';
  }
}

export interface DpopProofExpectations {
  /** The request's method (`htm`, §4.3 check 8). */
  method: string;
  /** The request's URL as the client addressed it (`htu`, §4.3 check 9); query and fragment are ignored. */
  url: string;
  /** The access token presented with the proof, whose hash `ath` must be (§4.3 check 12, §7). */
  accessToken?: string;
  /** Milliseconds since the epoch. */
  now: number;
  /** How old a proof's `iat` may be (§4.3 check 11). */
  maxAgeSeconds: number;
}

export interface DpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: what tokens are bound to (`cnf.jkt`, §6.1). */
  jkt: string;
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
  nonce: string | undefined;
  /** The JWS algorithm it was signed with (one of DPOP_SIGNING_ALGS). */
  alg: string;
}

/**
 * RFC 9449 §4.3: checks 1–9, 11 and 12 of the DPoP header value(s) of one request; undefined
 * when the request has no DPoP header. Check 10 (the server nonce) and the single use of `jti`
 * are the caller's, who keeps state.
 */
export async function checkDpopProof(
  header: string | string[] | undefined,
  expected: DpopProofExpectations,
): Promise<DpopProof | undefined> {
  if (header === undefined) return undefined;
  // Check 1: not more than one DPoP header field (Node joins repeated ones with ", "; a JWT has no comma).
  if (Array.isArray(header) || header.includes(',')) throw new DpopProofRefused('more than one DPoP header');
  // Check 2: a well-formed JWT (compact JWS).
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(header)) {
    throw new DpopProofRefused('the DPoP header is not a JWT');
  }
  let protectedHeader: ReturnType<typeof decodeProtectedHeader>;
  try {
    protectedHeader = decodeProtectedHeader(header);
  } catch {
    throw new DpopProofRefused('the DPoP proof header cannot be decoded');
  }
  // Checks 3–5 and 7: typ, an allowed asymmetric alg, and a public jwk.
  if (protectedHeader.typ !== 'dpop+jwt') throw new DpopProofRefused('the DPoP proof typ must be dpop+jwt');
  const alg = protectedHeader.alg;
  if (alg === undefined || !(DPOP_SIGNING_ALGS as readonly string[]).includes(alg)) {
    throw new DpopProofRefused(`the DPoP proof alg must be one of ${DPOP_SIGNING_ALGS.join(', ')}`);
  }
  const jwk = protectedHeader.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new DpopProofRefused('the DPoP proof header has no jwk');
  }
  if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) {
    throw new DpopProofRefused('the DPoP proof jwk must be a public key');
  }
  // Check 6: the signature, with the key in the header.
  let payload: Record<string, unknown>;
  try {
    const key = await importJWK(jwk as JWK, alg);
    ({ payload } = await jwtVerify(header, key, { typ: 'dpop+jwt', algorithms: [alg], currentDate: new Date(0) }));
  } catch {
    throw new DpopProofRefused('the DPoP proof signature does not verify with its jwk');
  }
  const { jti, htm, htu, iat, ath, nonce } = payload;
  // Check 3: the required claims.
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) {
    throw new DpopProofRefused('the DPoP proof jti must be a string of 1 to 256 characters');
  }
  if (typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number') {
    throw new DpopProofRefused('the DPoP proof must have htm, htu and iat');
  }
  if (nonce !== undefined && typeof nonce !== 'string')
    throw new DpopProofRefused('the DPoP proof nonce must be a string');
  // Check 8: the method.
  if (htm !== expected.method) throw new DpopProofRefused(`the DPoP proof htm must be ${expected.method}`);
  // Check 9: the URI, without query and fragment, compared after normalisation (RFC 3986 §6.2.2, §6.2.3).
  if (normalisedHtu(htu) !== normalisedHtu(expected.url)) {
    throw new DpopProofRefused(`the DPoP proof htu must be ${normalisedHtu(expected.url)}`);
  }
  // Check 11: created recently (§11.1).
  const nowSeconds = expected.now / 1000;
  if (iat < nowSeconds - expected.maxAgeSeconds || iat > nowSeconds + DPOP_FUTURE_LEEWAY_SECONDS) {
    throw new DpopProofRefused('the DPoP proof iat is too old or in the future');
  }
  // Check 12: with an access token, `ath` is the hash of exactly that token.
  if (expected.accessToken !== undefined && ath !== accessTokenHash(expected.accessToken)) {
    throw new DpopProofRefused('the DPoP proof ath does not match the access token');
  }
  return { jkt: await calculateJwkThumbprint(jwk as JWK, 'sha256'), jti, iat, nonce, alg };
}

/** RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the access token's ASCII. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * The form a `htu` is compared in: scheme and host lower-cased, the default port and dot
 * segments dropped, percent-encoding normalised by the URL parser; no query or fragment
 * (RFC 9449 §4.3 check 9). An unparseable value compares as itself, and so never matches a URL.
 */
function normalisedHtu(value: string): string {
  try {
    const url = new URL(value);
    url.search = '';
    url.hash = '';
    return url.href;
  } catch {
    return `unparseable:${value}`;
  }
}
