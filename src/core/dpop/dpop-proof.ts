/**
 * DPoP proofs at the authorization server, RFC 9449 §4.3 and §8: the checks of
 * ./dpop-proof-jwt.ts, then the server nonce (check 10, when `dpop_nonce_required`) and the
 * single use of each proof (§11.1: its `jti` recorded until the proof is too old to be accepted
 * anyway, in the store every instance shares, so a proof replayed at another instance is
 * refused too).
 */
import type { Store } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { InvalidDpopProof, UseDpopNonce } from '../errors.js';
import { currentDpopNonce, isFreshDpopNonce } from './dpop-nonce.js';
import { checkDpopProof, DpopProofRefused, type DpopProof } from './dpop-proof-jwt.js';

/** What checking a proof uses: the settings (lifetime, nonces, secret), the clock, and the shared record of used proofs. */
export type DpopProofDeps = Pick<ProviderContext, 'settings' | 'now'> & { store: Pick<Store, 'usedJtis'> };

/** The proof of one request at the authorization server, as the HTTP layer passes it. */
export interface DpopRequest {
  /** The DPoP header value(s), undefined when absent. */
  header: string | string[] | undefined;
  method: string;
  /** The URL the client addressed, i.e. the endpoint as published in discovery. */
  url: string;
  /** At a protected resource (UserInfo): the access token presented, whose hash `ath` must be (§7). */
  accessToken?: string;
}

/** RFC 9449 §4.3: the verified proof of `request`, or undefined without a DPoP header. */
export async function verifyDpopProof(request: DpopRequest, context: DpopProofDeps): Promise<DpopProof | undefined> {
  const now = context.now();
  const { settings } = context;
  let proof: DpopProof | undefined;
  try {
    proof = await checkDpopProof(request.header, {
      method: request.method,
      url: request.url,
      ...(request.accessToken !== undefined ? { accessToken: request.accessToken } : {}),
      now,
      maxAgeSeconds: settings.dpopProofMaxAgeSeconds,
    });
  } catch (error) {
    if (error instanceof DpopProofRefused) throw new InvalidDpopProof(error.reason);
    throw error;
  }
  if (proof === undefined) return undefined;
  // §8: a nonce the server provided, when it requires them; a missing or stale one is answered
  // with use_dpop_nonce and a fresh nonce (§8.1), which the client puts into a new proof.
  if (
    settings.dpopNonceRequired &&
    (proof.nonce === undefined || !isFreshDpopNonce(settings.secret, proof.nonce, now))
  ) {
    throw new UseDpopNonce(
      proof.nonce === undefined ? 'a DPoP nonce is required' : 'the DPoP nonce is stale',
      currentDpopNonce(settings.secret, now),
    );
  }
  // §11.1: each proof once. It is refused by its iat after maxAge, so that long is enough.
  const acceptedUntil = (proof.iat + settings.dpopProofMaxAgeSeconds) * 1000;
  if (!(await context.store.usedJtis.markUsed('dpop', `${proof.jkt}:${proof.jti}`, acceptedUntil, now))) {
    throw new InvalidDpopProof('this DPoP proof was already used (its jti was seen before)');
  }
  return proof;
}
