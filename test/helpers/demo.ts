/**
 * The three-party demo for the tests in test/demo/: free ports, and the demo started on them
 * with an in-memory SQLite store.
 */
import { createServer, type AddressInfo } from 'node:net';
import { startDemo, type RunningDemo } from '../../src/demo/run-demo.js';
import { TEST_SECRET } from './server.js';

/** Free TCP ports on the loopback interface (held together, so they differ). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** `gatehouse demo` on free ports, with an in-memory SQLite store. */
export async function startTestDemo(): Promise<RunningDemo> {
  const [clientPort, serverPort, resourcePort] = await freePorts(3);
  return startDemo({
    secret: TEST_SECRET,
    databaseUrl: 'sqlite::memory:',
    host: 'localhost',
    clientPort,
    serverPort,
    resourcePort,
  });
}
