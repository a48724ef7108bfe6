/**
 * The records the store keeps and hands out (clients, users, sessions, codes, tokens, keys,
 * logout deliveries, limits, audit events) and the few shapes shared by the store's parts (pool
 * statistics, change notifications). Plain data types, one file per concern in src/store/records/: the repositories in
 * src/store/repositories/ map them to rows, and src/store/store.ts re-exports them with the
 * Store interface, so the repositories depend on this file and never on store.ts (no cycle).
 *
 * Conventions: every time is an integer count of milliseconds since the Unix epoch; secrets are
 * never stored in clear (the caller passes a hash, and lookups are by hash).
 */
export * from './records/client-records.js';
export * from './records/browser-records.js';
export * from './records/token-records.js';
export * from './records/operation-records.js';
