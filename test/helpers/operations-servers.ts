/**
 * A test server on one of STORE_TARGETS for the operations tests (metrics, tracing): the body
 * runs against a server on the target's database; the test is skipped where that database is
 * missing (PostgreSQL outside CI), and the server is closed and the database dropped afterwards.
 */
import type { RunningGatehouse } from '../../src/server.js';
import { onStoreTarget, startTestServer, type StoreTarget, type TestServerOptions } from './server.js';

export function onStoreTargetServer(
  target: StoreTarget,
  options: Omit<TestServerOptions, 'databaseUrl'>,
  body: (gatehouse: RunningGatehouse) => Promise<void>,
) {
  let gatehouse: RunningGatehouse | undefined;
  return onStoreTarget(
    target,
    async (url) => {
      gatehouse = await startTestServer({ ...options, databaseUrl: url });
      await body(gatehouse);
    },
    async () => {
      await gatehouse?.close();
    },
  );
}
