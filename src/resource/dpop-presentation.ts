/**
 * DPoP at the protected resource, RFC 9449 §7: a token bound to a key (`cnf.jkt`, §6) is accepted
 * only with the `DPoP` authentication scheme and a valid proof of that key over this request and
 * this token (`ath`); never as a bearer token (§7.2). A bearer token is not accepted with the
 * `DPoP` scheme. Each proof is accepted once by this verifier (§11.1): the record of proofs
 * seen lives in the process, so run one verifier per process and keep proofs short-lived
 * (`dpop.maxAgeSeconds`). Server nonces (§9) are not used by the resource module.
 */
import { BoundedCache } from '../core/cache/bounded-cache.js';
import { checkDpopProof, DpopProofRefused } from '../core/dpop/dpop-proof-jwt.js';
import type { BearerError, BearerErrorCode } from './bearer-errors.js';
import type { AccessTokenClaims } from './types.js';

export type Scheme = 'Bearer' | 'DPoP';

/**
 * The proofs one verifier has accepted, each until it is too old to be accepted anyway. Bounded
 * like every cache here: when full, the least recently seen proof is forgotten first.
 */
export class SeenProofs {
  readonly #seen: BoundedCache<string, true>;

  constructor(clock: () => number = Date.now, maxEntries = 100_000) {
    this.#seen = new BoundedCache(maxEntries, 0, clock);
  }

  /** True when `id` is new (and now recorded until `until`); false for a replay. */
  markUsed(id: string, until: number, now: number): boolean {
    if (this.#seen.get(id) !== undefined) return false;
    this.#seen.set(id, true, this.#seen.epoch, until - now);
    return true;
  }
}

/**
 * The `dpop.origin` option checked: the origin (scheme, host, port) of an absolute http(s) URL,
 * or undefined when not set.
 */
export function dpopOrigin(origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new TypeError(`dpop.origin must be an absolute http(s) URL, not ${JSON.stringify(origin)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError(`dpop.origin must be an absolute http(s) URL, not ${JSON.stringify(origin)}`);
  return url.origin;
}

/**
 * RFC 9449 §4.3 check 9: the URL `htu` must equal, query and fragment ignored: the request's own,
 * or with `origin` (the externally visible one the verifier is configured with) the request's
 * path at that origin.
 */
export function htuFor(request: Request, origin: string | undefined): string {
  if (origin === undefined) return request.url;
  const url = new URL(request.url);
  return `${origin}${url.pathname}`;
}

export interface PresentationCheck {
  request: Request;
  /** The verifier's `dpop.origin`, if set (see htuFor). */
  origin: string | undefined;
  token: string;
  scheme: Scheme;
  claims: AccessTokenClaims;
  now: number;
  maxAgeSeconds: number;
  seen: SeenProofs;
  fail(status: 401, error: BearerErrorCode, description: string, scheme: Scheme): BearerError;
}

/** RFC 9449 §7: throws the BearerError (with a `DPoP` challenge) a wrong presentation deserves. */
export async function checkPresentation(check: PresentationCheck): Promise<void> {
  const { claims, fail } = check;
  const cnf = claims['cnf'];
  const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['jkt'] : undefined;
  if (jkt === undefined) {
    if (check.scheme === 'DPoP') {
      throw fail(401, 'invalid_token', 'the access token is not DPoP-bound: present it with the Bearer scheme', 'DPoP');
    }
    return;
  }
  if (check.scheme !== 'DPoP') {
    throw fail(
      401,
      'invalid_token',
      'the access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof (RFC 9449 7.2)',
      'DPoP',
    );
  }
  let proof: Awaited<ReturnType<typeof checkDpopProof>>;
  try {
    proof = await checkDpopProof(check.request.headers.get('dpop') ?? undefined, {
      method: check.request.method,
      url: htuFor(check.request, check.origin),
      accessToken: check.token,
      now: check.now,
      maxAgeSeconds: check.maxAgeSeconds,
    });
  } catch (error) {
    if (error instanceof DpopProofRefused) throw fail(401, 'invalid_dpop_proof', error.reason, 'DPoP');
    throw error;
  }
  if (proof === undefined) throw fail(401, 'invalid_dpop_proof', 'a DPoP proof is required', 'DPoP');
  if (proof.jkt !== jkt) {
    throw fail(401, 'invalid_dpop_proof', 'the DPoP proof is signed by another key than the token is bound to', 'DPoP');
  }
  if (!check.seen.markUsed(`${proof.jkt}:${proof.jti}`, (proof.iat + check.maxAgeSeconds) * 1000, check.now)) {
    throw fail(401, 'invalid_dpop_proof', 'this DPoP proof was already used (its jti was seen before)', 'DPoP');
  }
}
