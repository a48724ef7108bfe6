/**
 * The three-party demo on one machine: the authorization server (Gatehouse, with the demo
 * fixtures), the protected resource (the notes API) and the client (a confidential web app and a
 * public single-page app). Used by `gatehouse demo`.
 */
import type { FastifyInstance } from 'fastify';
import { DEFAULT_SETTINGS, type GatehouseSettings } from '../config/settings.js';
import type { TimedEvent } from '../core/events.js';
import { startGatehouse, type RunningGatehouse } from '../server.js';
import { createClientApp } from './client-app.js';
import { DEFAULT_DEMO_DATABASE, DEFAULT_DEMO_PORTS, demoFixtures, demoUrls, type DemoUrls } from './demo-config.js';
import { createResourceApi } from './resource-api.js';

export interface DemoOptions {
  /** Secret encrypting the signing keys at rest (32 characters or more). */
  secret: string;
  /** Default `sqlite:./gatehouse-demo.db` (relative to the working directory). */
  databaseUrl?: string;
  /** Interface the three servers listen on (default localhost). URLs always say `localhost`. */
  host?: string;
  clientPort?: number;
  serverPort?: number;
  resourcePort?: number;
  /** Pino logging of the authorization server (default false). */
  logger?: boolean;
  /** Receives every protocol event of the authorization server. */
  onEvent?: (event: TimedEvent) => void;
  /** Show the demo user's credentials on the client pages (default true). */
  showDemoCredentials?: boolean;
}

export interface RunningDemo {
  urls: DemoUrls;
  gatehouse: RunningGatehouse;
  client: FastifyInstance;
  resource: FastifyInstance;
  close(): Promise<void>;
}

function checkPort(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new RangeError(`${name} must be an integer from 1 to 65535, not ${value}`);
  return value;
}

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const ports = {
    client: checkPort('the client port', options.clientPort ?? DEFAULT_DEMO_PORTS.client),
    server: checkPort('the authorization server port', options.serverPort ?? DEFAULT_DEMO_PORTS.server),
    resource: checkPort('the resource port', options.resourcePort ?? DEFAULT_DEMO_PORTS.resource),
  };
  if (new Set([ports.client, ports.server, ports.resource]).size !== 3) {
    throw new RangeError(
      `the client, authorization server and resource ports must differ (got ${ports.client}, ${ports.server}, ${ports.resource})`,
    );
  }
  const host = options.host ?? 'localhost';
  const urls = demoUrls(ports);

  const settings: GatehouseSettings = {
    ...DEFAULT_SETTINGS,
    issuer: urls.issuer,
    port: ports.server,
    host,
    databaseUrl: options.databaseUrl ?? DEFAULT_DEMO_DATABASE,
    secret: options.secret,
    // Demo only: the demo client's backchannel_logout_uri is on http://localhost, a loopback
    // address that Gatehouse's outbound requests refuse by default (so that a registered URI cannot
    // reach the server's own network). Everything here runs on one machine, so allow it.
    outboundAllowPrivateAddresses: true,
    // The demo teaches: the flow inspector (/_gatehouse/flows) draws every step (docs/inspector.md).
    inspector: { ...DEFAULT_SETTINGS.inspector, enabled: true },
    ...demoFixtures(urls),
  };

  const started: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const close of started.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  };

  try {
    const gatehouse = await startGatehouse(settings, { logger: options.logger ?? false });
    started.push(() => gatehouse.close());
    if (options.onEvent) gatehouse.context.events.onAny(options.onEvent);

    const { app: resource } = createResourceApi({
      issuer: urls.issuer,
      resource: urls.resource,
      corsOrigins: [urls.client],
      // The inspector's Resource lane: the API reports what it accepted and refused.
      reportTo: `${urls.issuer}/_gatehouse/resource-events`,
    });
    await resource.listen({ port: ports.resource, host });
    started.push(() => resource.close());

    const client = createClientApp({
      urls,
      ...(options.showDemoCredentials !== undefined ? { showDemoCredentials: options.showDemoCredentials } : {}),
    });
    await client.listen({ port: ports.client, host });
    started.push(() => client.close());

    let closing: Promise<void> | undefined;
    return {
      urls,
      gatehouse,
      client,
      resource,
      close: () => (closing ??= closeAll()),
    };
  } catch (error) {
    await closeAll().catch(() => {});
    throw error;
  }
}
