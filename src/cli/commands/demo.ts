/**
 * `gatehouse demo`: the three-party demo on localhost.
 */
import type { Command } from 'commander';
import { resolveSettings } from '../../config/resolve-settings.js';
import { CliError, writeErr, writeOut } from '../output.js';
import { closeOnSignals, portFlag } from '../shared.js';

interface DemoFlags {
  database?: string;
  host?: string;
  clientPort?: string;
  serverPort?: string;
  resourcePort?: string;
}

/**
 * The demo's client side runs on openid-client and oauth4webapi, which are development
 * dependencies: a server install (`npm install --omit=dev`, or the published package, which
 * leaves dist/demo out) does not carry them, and says so instead of a module-resolution trace.
 */
async function importDemo<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new CliError(
        `the demo is not part of this installation (${(error as Error).message.split('\n')[0]}); run it from a clone of Gatehouse after \`npm install\`, which installs its development dependencies`,
      );
    }
    throw error;
  }
}

/**
 * The three-party demo: client, authorization server and protected resource on one machine.
 * Its fixtures (a user with a published password) are written to the demo database only: the
 * database comes from --database or the demo default, never from GATEHOUSE_DATABASE_URL or a
 * config file, and the issuer is always http://localhost:SERVER_PORT.
 */
async function demoCommand(flags: DemoFlags): Promise<void> {
  const {
    DEFAULT_DEMO_DATABASE,
    DEFAULT_DEMO_PORTS,
    DEMO_SPA_CLIENT_ID,
    DEMO_USER,
    DEMO_WEB_CLIENT_ID,
    DEMO_WEB_CLIENT_SECRET,
    inspectorUrl,
  } = await importDemo(() => import('../../demo/demo-config.js'));
  const serverPort = portFlag('--server-port', flags.serverPort, DEFAULT_DEMO_PORTS.server);
  const clientPort = portFlag('--client-port', flags.clientPort, DEFAULT_DEMO_PORTS.client);
  const resourcePort = portFlag('--resource-port', flags.resourcePort, DEFAULT_DEMO_PORTS.resource);
  if (new Set([serverPort, clientPort, resourcePort]).size !== 3)
    throw new CliError('--client-port, --server-port and --resource-port must differ');
  // Only GATEHOUSE_SECRET is taken from the environment; without it the development secret file applies.
  const settings = await resolveSettings({
    flags: {
      database: flags.database ?? DEFAULT_DEMO_DATABASE,
      port: serverPort,
      issuer: `http://localhost:${serverPort}`,
    },
    env: { GATEHOUSE_SECRET: process.env.GATEHOUSE_SECRET },
    cwd: process.cwd(),
    log: (message) => writeErr(message),
    requireSecret: true,
  });
  const { startDemo } = await importDemo(() => import('../../demo/run-demo.js'));
  const { redactUrl } = await import('../../store/open-store.js');
  let demo: Awaited<ReturnType<typeof startDemo>>;
  try {
    demo = await startDemo({
      secret: settings.secret,
      databaseUrl: settings.databaseUrl,
      host: flags.host ?? 'localhost',
      clientPort,
      serverPort,
      resourcePort,
      onEvent: (event) => {
        const details = Object.entries(event)
          .filter(
            ([key, value]) => !['type', 'at', 'flowId', 'jti', 'grantId', 'userId'].includes(key) && value !== null,
          )
          .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(' ') : String(value)}`)
          .join(' ');
        writeOut(`  [authorization server] ${event.type}${details ? ` ${details}` : ''}`);
      },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(
        `${(error as Error).message}: a port is in use; choose others with --client-port, --server-port and --resource-port`,
      );
    }
    throw error;
  }
  const { urls } = demo;
  writeOut(
    [
      'Gatehouse demo is running: three parties on one machine.',
      '',
      `  Client, web app:          ${urls.client}   <- open this`,
      `  Client, single-page app:  ${urls.spa}`,
      `  Authorization server:     ${urls.issuer}   (the issuer; discovery at ${urls.issuer}/.well-known/openid-configuration)`,
      `  Flow inspector:           ${inspectorUrl(urls)}   <- open this beside the client`,
      `  Protected resource:       ${urls.resourceOrigin}   (GET /notes needs scope notes:read and audience ${urls.resource})`,
      '',
      `  Demo user:   username ${DEMO_USER.username}, password ${DEMO_USER.password}`,
      `  Web client:  client_id ${DEMO_WEB_CLIENT_ID}, client_secret ${DEMO_WEB_CLIENT_SECRET} (confidential, client_secret_basic)`,
      `  SPA client:  client_id ${DEMO_SPA_CLIENT_ID} (public: no secret, PKCE)`,
      `  Database:    ${redactUrl(settings.databaseUrl)}`,
      '',
      'These are development credentials. Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  closeOnSignals(demo, 'shutting down the demo');
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run the three-party demo: client (web app and SPA), authorization server and protected resource on localhost',
    )
    .option('--database <url>', 'database URL for the demo (default: sqlite:./gatehouse-demo.db)')
    .option('--host <host>', 'interface the three servers listen on (default: localhost)')
    .option('--client-port <port>', 'port of the client (default: 9000)')
    .option(
      '--server-port <port>',
      'port of the authorization server; the issuer is http://localhost:PORT (default: 9001)',
    )
    .option('--resource-port <port>', 'port of the protected resource (default: 9002)')
    .action((flags: DemoFlags) => demoCommand(flags));
}
