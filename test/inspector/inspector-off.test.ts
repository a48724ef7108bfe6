/**
 * Issue 15, "the inspector costs nothing when off", shown structurally rather than by timing
 * (bench/README.md has the measured comparison): with the inspector off, Gatehouse's Fastify
 * instance carries no inspector hook on any route, no route handler is wrapped by the recorder
 * (which allocates a capture and an AsyncLocalStorage context per request), and no
 * FlowInspector exists. With it on, the only difference in every route's hooks is the
 * inspector's own, named ones.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type RouteOptions } from 'fastify';
import { DEFAULT_SETTINGS, type GatehouseSettings } from '../../src/config/settings.js';
import { installGatehouse } from '../../src/http/app.js';
import { openInstance } from '../../src/server.js';
import { CONFIDENTIAL_CLIENT, TEST_SECRET } from '../helpers/server.js';

interface Installed {
  /** Each route's hooks, as Fastify prints them (`(onSend) ["a()","b()"]`), by the route's line. */
  hooks: Map<string, string[]>;
  printed: string;
  /** The final handler of each route (after every onRoute hook), by method and URL. */
  handlers: Map<string, string>;
  inspector: unknown;
}

/** Gatehouse installed on a Fastify instance of its own, with the inspector on or off. */
async function installed(enabled: boolean): Promise<Installed> {
  const settings: GatehouseSettings = {
    ...DEFAULT_SETTINGS,
    issuer: 'http://127.0.0.1:9001',
    host: '127.0.0.1',
    port: 0,
    databaseUrl: 'sqlite::memory:',
    secret: TEST_SECRET,
    clients: [CONFIDENTIAL_CLIENT],
    users: [],
    resources: [],
    inspector: { ...DEFAULT_SETTINGS.inspector, enabled },
  };
  const { store, audit, context } = await openInstance(settings, {}, () => undefined);
  const app = Fastify();
  // First of the onRoute hooks: sees each route's options object, which later hooks may wrap.
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  try {
    installGatehouse(app, context);
    await app.ready();
    const printed = app.printRoutes({ includeHooks: true, commonPrefix: false });
    // The printed tree: a route's line names its path relative to its parent (one level per
    // 4 columns of indentation), the lines after it (•) its hooks.
    const hooks = new Map<string, string[]>();
    const parents: string[] = [];
    let current: string[] = [];
    let lines = 0;
    for (const line of printed.split('\n')) {
      const hook = /•\s+(\(\w+\).*)$/.exec(line)?.[1];
      if (hook !== undefined) current.push(hook);
      else if (line.trim() !== '') {
        const indent = line.search(/[^\s│├└─]/);
        const [, segment = '', methods = ''] = /^(.*) (\([A-Z, ]+\))$/.exec(line.slice(indent)) ?? [];
        parents.length = indent / 4;
        parents.push(segment);
        current = [];
        hooks.set(`${parents.join('')} ${methods}`, current);
        lines += 1;
      }
    }
    assert.equal(hooks.size, lines, 'each printed route has a path of its own');
    const handlers = new Map(
      routes.flatMap((route) =>
        [route.method].flat().map((method) => [`${method} ${route.url}`, route.handler.name] as [string, string]),
      ),
    );
    return { hooks, printed, handlers, inspector: context.inspector };
  } finally {
    await app.close();
    await audit.close();
    await store.close();
  }
}

describe('flow inspector off: nothing of it is installed', () => {
  it('no inspector hook on any route, no handler wrapped by the recorder, no FlowInspector', async () => {
    const off = await installed(false);
    assert.equal(off.inspector, undefined);
    assert.ok(off.hooks.size > 20, 'the routes were printed with their hooks');
    assert.doesNotMatch(off.printed, /inspector/i);
    assert.doesNotMatch(off.printed, /_gatehouse/);
    for (const [route, handler] of off.handlers) assert.notEqual(handler, 'recordedHandler', route);
    assert.equal(off.handlers.get('POST /token'), 'tracedHandler');
  });

  it('with it on, every route’s hooks differ from the off instance’s by the inspector’s named hooks only', async () => {
    const [off, on] = [await installed(false), await installed(true)];
    assert.ok(on.inspector !== undefined);
    assert.equal(on.handlers.get('POST /token'), 'recordedHandler', 'the protocol endpoints are recorded');
    assert.ok(on.hooks.get('/token (OPTIONS, POST)')?.some((hook) => hook.includes('"inspectorOnSend()"')));
    let compared = 0;
    for (const [route, hooks] of off.hooks) {
      const withInspector = on.hooks.get(route);
      assert.ok(withInspector !== undefined, `route ${route} exists with the inspector on too`);
      const without = withInspector
        .map((hook) => hook.replace(/"inspector\w+\(\)",?/g, '').replace(/,\]$/, ']'))
        .filter((hook) => !/\[\]$/.test(hook));
      assert.deepEqual(hooks, without, route);
      compared += 1;
    }
    assert.equal(compared, off.hooks.size);
  });
});
