/**
 * Starts a real Gatehouse (HTTP on 127.0.0.1, a random port) on the store a test asks for.
 */
import {
  DEFAULT_SETTINGS,
  type ClientFixture,
  type GatehouseSettings,
  type ResourceFixture,
  type UserFixture,
} from '../../src/config/settings.js';
import type { AuditTrailOptions } from '../../src/core/audit/audit-trail.js';
import { startGatehouse, type RunningGatehouse, type StartOptions } from '../../src/server.js';
import { after, before, type TestContext } from 'node:test';
import type { TimedEvent } from '../../src/core/events.js';
import { dropPostgresSchema, postgresSkipMessage, postgresTestUrl } from './postgres.js';
import type { Store } from '../../src/store/store.js';

export const TEST_SECRET = 'test-secret-for-gatehouse-tests-0123456789';

export const CONFIDENTIAL_CLIENT: ClientFixture = {
  client_id: 'web-app',
  client_secret: 'web-app-secret-that-is-long-enough',
  client_name: 'Example Web App',
  redirect_uris: ['http://127.0.0.1:9000/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'openid profile email offline_access',
  require_pkce: true,
};

/** A confidential client registered for client_secret_post (RFC 6749 §2.3.1). */
export const POST_CLIENT: ClientFixture = {
  ...CONFIDENTIAL_CLIENT,
  client_id: 'post-app',
  client_secret: 'post-app-secret-that-is-long-enough',
  token_endpoint_auth_method: 'client_secret_post',
  redirect_uris: ['http://127.0.0.1:9000/post-callback'],
};

/** A second confidential client, e.g. to present another client's token. */
export const OTHER_CLIENT: ClientFixture = {
  ...CONFIDENTIAL_CLIENT,
  client_id: 'other-app',
  client_secret: 'other-app-secret-that-is-long-enough',
  client_name: 'Other Web App',
  redirect_uris: ['http://127.0.0.1:9000/other-callback'],
};

const { client_secret: _confidentialSecret, ...WITHOUT_SECRET } = CONFIDENTIAL_CLIENT;

/** A public client (RFC 6749 §2.1): the confidential client's grants and scope, without a secret. */
export const PUBLIC_CLIENT: ClientFixture = {
  ...WITHOUT_SECRET,
  client_id: 'spa',
  client_name: 'Example SPA',
  redirect_uris: ['http://127.0.0.1:9000/spa', 'com.example.app:/callback'],
  token_endpoint_auth_method: 'none',
};

/** A confidential client that opted out of PKCE (RFC 9700 §2.1.1 allows it for confidential clients). */
export const NO_PKCE_CLIENT: ClientFixture = {
  ...CONFIDENTIAL_CLIENT,
  client_id: 'legacy-web-app',
  client_secret: 'legacy-web-app-secret-long-enough',
  client_name: 'Legacy Web App',
  redirect_uris: ['http://127.0.0.1:9000/legacy'],
  grant_types: ['authorization_code'],
  scope: 'openid profile',
  require_pkce: false,
};

/** A client that may only use client_credentials (RFC 6749 §4.4): it has no redirect URI at all. */
export const MACHINE_CLIENT: ClientFixture = {
  client_id: 'machine',
  client_secret: 'machine-secret-that-is-long-enough',
  redirect_uris: [],
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'api',
  require_pkce: true,
};

export const ALICE: UserFixture = {
  username: 'alice',
  password: 'correct horse battery staple',
  email: 'alice@example.com',
  name: 'Alice Example',
};

export interface TestServerOptions {
  databaseUrl?: string;
  clients?: ClientFixture[];
  users?: UserFixture[];
  resources?: ResourceFixture[];
  settings?: Partial<GatehouseSettings>;
  /** How often the server reloads its signing keys from the store (default 30 s). */
  keyReloadIntervalMs?: number;
  /** Where the JSON log lines go (default: no logging). */
  logger?: StartOptions['logger'];
  /** Run on this store (the caller closes it) instead of opening databaseUrl. */
  store?: Store;
  /** Batching of the audit trail (default: at most 1 s or 200 events before a write). */
  audit?: AuditTrailOptions;
  /** Trusted CAs of Client ID Metadata Document fetches (StartOptions.outboundCa). */
  outboundCa?: string;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<RunningGatehouse> {
  const settings: GatehouseSettings = {
    ...DEFAULT_SETTINGS,
    issuer: 'http://127.0.0.1:0',
    host: '127.0.0.1',
    port: 0,
    databaseUrl: options.databaseUrl ?? 'sqlite::memory:',
    secret: TEST_SECRET,
    clients: options.clients ?? [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT],
    users: options.users ?? [ALICE],
    resources: options.resources ?? [],
    ...options.settings,
  };
  return startGatehouse(settings, {
    logger: options.logger ?? false,
    issuerFromAddress: true,
    ...(options.store !== undefined ? { store: options.store } : {}),
    ...(options.keyReloadIntervalMs !== undefined ? { keyReloadIntervalMs: options.keyReloadIntervalMs } : {}),
    ...(options.audit !== undefined ? { audit: options.audit } : {}),
    ...(options.outboundCa !== undefined ? { outboundCa: options.outboundCa } : {}),
  });
}

/** Starts a test server before the tests of the enclosing suite (or file), hands it to `started`, and closes it after them. */
export function useTestServer(options: TestServerOptions, started: (gatehouse: RunningGatehouse) => void): void {
  let gatehouse: RunningGatehouse | undefined;
  before(async () => {
    gatehouse = await startTestServer(options);
    started(gatehouse);
  });
  after(async () => {
    await gatehouse?.close();
  });
}

/** The stores every store-dependent test runs against. PostgreSQL gets a fresh schema. */
export interface StoreTarget {
  name: 'sqlite' | 'postgres';
  url(): Promise<string | undefined>;
  cleanup(url: string): Promise<void>;
}

/** PostgreSQL, in a fresh schema of its own (test/helpers/postgres.ts). */
export const POSTGRES_TARGET: StoreTarget = { name: 'postgres', url: postgresTestUrl, cleanup: dropPostgresSchema };

export const STORE_TARGETS: StoreTarget[] = [
  { name: 'sqlite', url: async () => 'sqlite::memory:', cleanup: async () => {} },
  POSTGRES_TARGET,
];

/** A test server whose clock (context.now) stands still at `now` until `clock.now` is moved, and every event it emits. */
export async function startClockedServer(options: TestServerOptions, now: number) {
  const server = await startTestServer(options);
  const clock = { now };
  server.context.now = () => clock.now;
  const events: TimedEvent[] = [];
  server.context.events.onAny((event) => events.push(event));
  return { server, clock, events };
}

/**
 * A test body for one of STORE_TARGETS: skipped when its database is missing (PostgreSQL outside
 * CI), and its database dropped afterwards, once `teardown` (e.g. closing the servers) has run.
 */
export function onStoreTarget(
  target: StoreTarget,
  body: (url: string) => Promise<void>,
  teardown: () => Promise<void> = async () => {},
) {
  return async (t: TestContext): Promise<void> => {
    const url = await target.url();
    if (!url) return t.skip(postgresSkipMessage());
    try {
      await body(url);
    } finally {
      await teardown();
      await target.cleanup(url);
    }
  };
}
