/**
 * Device authorizations, RFC 8628: the device code a device polls with, the user code a user
 * enters at the verification page, and the decision in between. Every step that must hold under
 * concurrency is one conditional statement: a user code is decided once, a device code redeemed
 * once (as an authorization code, src/store/repositories/code-repository.ts).
 */
import type { ConsumeDeviceCodeResult, DeviceCode, DeviceDecision } from '../records.js';
import type { Executor } from '../executor.js';
import { rowCodec, stringArray, type FieldCodec } from './row-codec.js';
import { firstRecord, upsertRecord } from './row-queries.js';

export interface DeviceCodeRepository {
  /**
   * Stores a new device authorization; false (nothing written) when a device code that has not
   * expired at `now` holds the same user code, so the caller draws another. An expired one with
   * the same user code is replaced.
   */
  create(code: DeviceCode, now: number): Promise<boolean>;
  /** Reads a device code by its hash, whatever its state. */
  get(deviceCodeHash: string): Promise<DeviceCode | undefined>;
  /** The device code a user code stands for while it is pending and has not expired at `now`. */
  findPending(userCodeHash: string, now: number): Promise<DeviceCode | undefined>;
  /**
   * Atomically records the user's decision on a pending code that has not expired at `now`;
   * the updated code, or undefined when it was decided before (by a concurrent caller too),
   * expired or is unknown.
   */
  decide(userCodeHash: string, decision: DeviceDecision, now: number): Promise<DeviceCode | undefined>;
  /**
   * Records a poll of the token endpoint at `now` (RFC 8628 §3.5). While the code is pending and
   * the previous poll was less than its interval ago, the interval is raised by `slowDownSeconds`
   * (and stays raised) and `slow_down` is returned; otherwise `ok`.
   */
  poll(deviceCodeHash: string, now: number, slowDownSeconds: number): Promise<'ok' | 'slow_down'>;
  /**
   * Atomically marks an approved code redeemed. Exactly one of any number of concurrent callers
   * gets `consumed`; the others `used`. `not_found`: unknown, or not approved.
   */
  consume(deviceCodeHash: string, now: number): Promise<ConsumeDeviceCodeResult>;
}

export function deviceCodeRepository(ex: Executor): DeviceCodeRepository {
  return {
    // The upsert decides in one statement: a live code keeps its user code (no row returned).
    create: async (code, now) => {
      const stored = await upsertRecord(ex.db, DEVICE_CODE, code, 'user_code_hash', [], {
        replaceWhere: ['device_codes.expires_at', '<=', now],
      })
        .returning('device_code_hash')
        .executeTakeFirst();
      return stored !== undefined;
    },

    get: (deviceCodeHash) => firstRecord(ex, DEVICE_CODE, DEVICE_CODE_BY_HASH, [deviceCodeHash]),

    findPending: (userCodeHash, now) => firstRecord(ex, DEVICE_CODE, DEVICE_CODE_PENDING, [userCodeHash, now]),

    decide: (userCodeHash, decision, now) =>
      firstRecord(ex, DEVICE_CODE, DEVICE_CODE_DECIDE, [
        decision.status,
        decision.userId,
        decision.status === 'approved' ? decision.sid : null,
        decision.status === 'approved' ? decision.authTime : null,
        userCodeHash,
        now,
      ]),

    poll: async (deviceCodeHash, now, slowDownSeconds) => {
      const slowed = await ex.first(DEVICE_CODE_SLOW_DOWN, [slowDownSeconds, now, deviceCodeHash, now]);
      if (slowed !== undefined) return 'slow_down';
      await ex.all(DEVICE_CODE_POLLED, [now, deviceCodeHash]);
      return 'ok';
    },

    // The conditional UPDATE is the whole of the atomicity, as for authorization codes.
    consume: async (deviceCodeHash, now) => {
      const consumed = await firstRecord(ex, DEVICE_CODE, DEVICE_CODE_CONSUME, [now, deviceCodeHash]);
      if (consumed) return { status: 'consumed', code: consumed };
      const existing = await firstRecord(ex, DEVICE_CODE, DEVICE_CODE_BY_HASH, [deviceCodeHash]);
      return existing?.consumedAt != null ? { status: 'used', code: existing } : { status: 'not_found' };
    },
  };
}

const deviceCodeStatus: FieldCodec<DeviceCode['status'], string> = {
  encode: (status) => status,
  decode: (status, label) => {
    if (status === 'pending' || status === 'approved' || status === 'denied') return status;
    throw new Error(`Corrupt ${label} value: ${status}`);
  },
};

const DEVICE_CODE = rowCodec<DeviceCode, 'device_codes'>('device_codes', {
  deviceCodeHash: true,
  userCodeHash: true,
  flowId: true,
  clientId: true,
  scope: stringArray,
  resources: stringArray,
  status: deviceCodeStatus,
  userId: true,
  sid: true,
  authTime: true,
  intervalSeconds: true,
  lastPolledAt: true,
  createdAt: true,
  expiresAt: true,
  consumedAt: true,
});

const DEVICE_CODE_BY_HASH = DEVICE_CODE.selectWhere('"device_code_hash" = ?');
const DEVICE_CODE_PENDING = DEVICE_CODE.selectWhere(
  `"user_code_hash" = ? and "status" = 'pending' and "expires_at" > ?`,
);
const DEVICE_CODE_DECIDE = `update "device_codes" set "status" = ?, "user_id" = ?, "sid" = ?, "auth_time" = ? where "user_code_hash" = ? and "status" = 'pending' and "expires_at" > ? returning ${DEVICE_CODE.columns}`;
const DEVICE_CODE_SLOW_DOWN = `update "device_codes" set "interval_seconds" = "interval_seconds" + ?, "last_polled_at" = ? where "device_code_hash" = ? and "status" = 'pending' and "last_polled_at" is not null and "last_polled_at" + "interval_seconds" * 1000 > ? returning "interval_seconds"`;
const DEVICE_CODE_POLLED = `update "device_codes" set "last_polled_at" = ? where "device_code_hash" = ?`;
const DEVICE_CODE_CONSUME = `update "device_codes" set "consumed_at" = ? where "device_code_hash" = ? and "status" = 'approved' and "consumed_at" is null returning ${DEVICE_CODE.columns}`;
