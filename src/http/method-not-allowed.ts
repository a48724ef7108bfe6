/**
 * RFC 9110 §15.5.6: a request whose method the target resource does not support is answered
 * 405 with an `Allow` header listing the methods it does support; only a path that no route
 * serves at all is a 404.
 *
 * Fastify routes by method and path and sends both cases to the not-found handler, so the
 * routes' paths and methods are recorded as they are registered (`onRoute`) and the not-found
 * handler asks `allowedMethods` whether the path exists with other methods. `Allow` lists the
 * documented methods (HEAD with GET, as Fastify serves it); the CORS preflight (OPTIONS, see
 * cors.ts) is not an endpoint method and is left out.
 */
import type { FastifyInstance } from 'fastify';
import type { ResponseKind } from './error-responses.js';

interface RoutePattern {
  pattern: RegExp;
  methods: Set<string>;
  kind: ResponseKind;
}

export class RouteMethods {
  private readonly routes = new Map<string, RoutePattern>();

  /** Records every route registered on `app` from now on. */
  track(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter(
        (method) => method !== 'OPTIONS',
      );
      if (methods.length === 0) return;
      let entry = this.routes.get(route.url);
      if (!entry) {
        entry = { pattern: toPattern(route.url), methods: new Set(), kind: route.config?.responseKind ?? 'json' };
        this.routes.set(route.url, entry);
      }
      for (const method of methods) {
        entry.methods.add(method);
        if (method === 'GET') entry.methods.add('HEAD');
      }
    });
  }

  /** The methods a path supports, or undefined when no route serves the path. */
  allowedMethods(path: string): { allow: string[]; kind: ResponseKind } | undefined {
    for (const entry of this.routes.values()) {
      if (entry.pattern.test(path)) return { allow: [...entry.methods].sort(byDocumentedOrder), kind: entry.kind };
    }
    return undefined;
  }
}

const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
function byDocumentedOrder(a: string, b: string): number {
  return (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99);
}

/** `/interaction/:id/login` → /^\/interaction\/[^/]+\/login$/ (the route syntax Gatehouse uses). */
function toPattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
