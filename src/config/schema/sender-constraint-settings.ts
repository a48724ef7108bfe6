/**
 * Settings of sender-constrained tokens: DPoP (RFC 9449). Composed into the config file schema
 * by src/config/settings-schema.ts.
 */
import { Type } from '@sinclair/typebox';
import { int, setting } from './setting-node.js';

export const SENDER_CONSTRAINT_SETTINGS = {
  // RFC 9449 §4.3 check 11 and §11.1: how long after its iat a proof is accepted (and its jti remembered).
  dpop_proof_max_age_seconds: setting(int(5, 600), {
    setting: 'dpopProofMaxAgeSeconds',
    default: 60,
    unit: ' (seconds)',
    doc: 'DPoP: how long after its iat a proof is accepted (s)',
  }),
  // RFC 9449 §8: server nonces, which bound a proof's age whatever the client's clock says.
  dpop_nonce_required: setting(Type.Boolean(), {
    setting: 'dpopNonceRequired',
    default: false,
    doc: 'DPoP: every proof must carry a server nonce (DPoP-Nonce, RFC 9449 §8)',
  }),
};
