/**
 * Test servers for the brute-force limit tests (test/abuse): each server's clock (context.now)
 * stands still at LIMITS_NOW until the test moves `clock.now`, so delays and locks are checked
 * exactly, without sleeping; every server is closed after the file's tests.
 */
import { after } from 'node:test';
import type { AttemptLimit, GatehouseSettings } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { startClockedServer } from './server.js';

export const LIMITS_NOW = 1_900_000_000_000;

/** A limit that never holds anyone back, for the limits a test does not look at. */
export const NEVER: AttemptLimit = { freeAttempts: 100_000, backoffBaseMs: 0, lockAfter: 1_000_000, lockSeconds: 1 };

/** `startServer` starts a clocked server on `databaseUrl` (default SQLite in memory); `closeServers` closes all. */
export function clockedServers() {
  const servers: RunningGatehouse[] = [];
  const closeServers = async () => {
    for (const server of servers.splice(0)) await server.close();
  };
  after(closeServers);
  async function startServer(settings: Partial<GatehouseSettings>, databaseUrl?: string) {
    const started = await startClockedServer({ settings, ...(databaseUrl ? { databaseUrl } : {}) }, LIMITS_NOW);
    servers.push(started.server);
    return started;
  }
  return { startServer, closeServers };
}
