/**
 * Pushed authorization requests (RFC 9126): stored by the PAR endpoint, used once by the
 * authorization endpoint.
 */
import type { ConsumePushedRequestResult, PushedAuthorizationRequest } from '../records.js';
import type { Executor } from '../executor.js';
import { rowCodec, type FieldCodec } from './row-codec.js';
import { firstRecord } from './row-queries.js';

export interface PushedRequestRepository {
  create(request: PushedAuthorizationRequest): Promise<void>;
  /**
   * Atomically marks the request consumed at `now`, only if `clientId` pushed it, it was not
   * consumed yet and it has not expired: of any number of concurrent callers exactly one gets
   * `consumed`. Otherwise the result says why (another client's, used before, expired) and
   * nothing changes.
   */
  consume(requestUriHash: string, clientId: string, now: number): Promise<ConsumePushedRequestResult>;
}

export function pushedRequestRepository(ex: Executor): PushedRequestRepository {
  return {
    create: async (request) => ex.run(PUSHED_REQUEST.insert(request)),

    // The conditional UPDATE decides the one winner, as for authorization codes; the follow-up
    // SELECT only says why the others lost.
    consume: async (requestUriHash, clientId, now) => {
      const consumed = await firstRecord(ex, PUSHED_REQUEST, PUSHED_REQUEST_CONSUME, [
        now,
        requestUriHash,
        clientId,
        now,
      ]);
      if (consumed) return { status: 'consumed', request: consumed };
      const existing = await firstRecord(ex, PUSHED_REQUEST, PUSHED_REQUEST_BY_HASH, [requestUriHash]);
      if (!existing) return { status: 'not_found' };
      if (existing.clientId !== clientId) return { status: 'other_client', request: existing };
      return { status: existing.consumedAt !== null ? 'replayed' : 'expired', request: existing };
    },
  };
}

// --- Row mapping ----------------------------------------------------------------------------

/** The parameters as a JSON array of [name, value] pairs (a name may repeat: RFC 8707 `resource`). */
const parameterPairs: FieldCodec<Array<[string, string]>, string> = {
  encode: (pairs) => JSON.stringify(pairs),
  decode: (text, label) => {
    const value: unknown = JSON.parse(text);
    const isPair = (item: unknown) =>
      Array.isArray(item) && item.length === 2 && item.every((part) => typeof part === 'string');
    if (!Array.isArray(value) || !value.every(isPair)) {
      throw new Error(`Corrupt ${label} value: expected a JSON array of [name, value] string pairs`);
    }
    return value as Array<[string, string]>;
  },
};

const PUSHED_REQUEST = rowCodec<PushedAuthorizationRequest, 'pushed_authorization_requests'>(
  'pushed_authorization_requests',
  {
    requestUriHash: true,
    clientId: true,
    parameters: parameterPairs,
    createdAt: true,
    expiresAt: true,
    consumedAt: true,
  },
);

const PUSHED_REQUEST_BY_HASH = PUSHED_REQUEST.selectWhere('"request_uri_hash" = ?');
const PUSHED_REQUEST_CONSUME = `update "pushed_authorization_requests" set "consumed_at" = ? where "request_uri_hash" = ? and "client_id" = ? and "consumed_at" is null and "expires_at" > ? returning ${PUSHED_REQUEST.columns}`;
