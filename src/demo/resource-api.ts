/**
 * The demo's protected resource: a small notes API built on `gatehouse-resource`.
 *
 * - `GET /notes` needs a bearer access token issued by the demo's authorization server, with
 *   this resource as audience (RFC 8707 / RFC 9068 `aud`) and the `notes:read` scope; it
 *   answers the notes of the token's subject (`sub`).
 * - `GET /.well-known/oauth-protected-resource`: RFC 9728 metadata, advertised in every
 *   `WWW-Authenticate` challenge.
 * - CORS for the demo SPA's origin only: the browser may send `Authorization` and read
 *   `WWW-Authenticate` (so the SPA can show RFC 6750 errors). No cookies are involved.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import {
  AuthorizationServerUnavailableError,
  createVerifier,
  protectFastify,
  registerProtectedResourceMetadata,
  type ResourceVerifier,
} from '../resource/resource.js';
import { DEMO_RESOURCE_SCOPE, LATER_NOTES_PATH } from './demo-config.js';

export interface ResourceApiOptions {
  /** The authorization server's issuer identifier. */
  issuer: string;
  /** This resource's identifier, e.g. http://localhost:9002/ */
  resource: string;
  /** Origins allowed to call the API from a browser (the SPA's origin). */
  corsOrigins: string[];
  /** Fetch used for discovery and the JWKS (default: global fetch). */
  fetch?: typeof fetch;
  /** Report each verification to the flow inspector's resource-events endpoint (the verifier's reportTo). */
  reportTo?: string;
}

export interface Note {
  id: number;
  title: string;
  body: string;
}

/** Everyone starts with the same three notes; the API keeps them per subject, in memory. */
function starterNotes(): Note[] {
  return [
    {
      id: 1,
      title: 'Welcome to the notes API',
      body: 'This response came from the protected resource, after it validated your access token.',
    },
    {
      id: 2,
      title: 'What the API checked',
      body: 'Signature (via the JWKS), issuer, audience (this API), expiry, and the notes:read scope.',
    },
    {
      id: 3,
      title: 'What it did not need',
      body: 'Your password, your session cookie, or a call to the authorization server per request.',
    },
  ];
}

export function createResourceApi(options: ResourceApiOptions): { app: FastifyInstance; verifier: ResourceVerifier } {
  const verifierOptions = {
    issuer: options.issuer,
    audience: options.resource,
    scopesSupported: [DEMO_RESOURCE_SCOPE],
    resourceName: 'Demo notes API',
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.reportTo !== undefined ? { reportTo: options.reportTo } : {}),
  };
  const verifier = createVerifier(verifierOptions);
  const requireToken = protectFastify(verifier);
  // The demo's "expired token" mistake: the same API with its clock a day ahead, so any token has expired.
  const requireTokenTomorrow = protectFastify(
    createVerifier({ ...verifierOptions, clock: () => Date.now() + 24 * 60 * 60 * 1000 }),
  );
  const notesBySubject = new Map<string, Note[]>();
  const corsOrigins = new Set(options.corsOrigins);

  const app = Fastify({ logger: false });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    if (typeof origin === 'string' && corsOrigins.has(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', 'WWW-Authenticate');
    }
  });

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof AuthorizationServerUnavailableError) {
      return reply
        .code(503)
        .send({ error: 'temporarily_unavailable', error_description: 'the authorization server could not be reached' });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'invalid_request', error_description: (error as Error).message });
    }
    return reply.code(500).send({ error: 'server_error', error_description: 'unexpected error' });
  });

  app.get('/', async () => ({
    resource: options.resource,
    name: 'Demo notes API',
    endpoints: { notes: `${options.resource.replace(/\/$/, '')}/notes`, metadata: verifier.resourceMetadataUrl },
    authorization_servers: [options.issuer],
  }));

  // CORS preflight (the SPA sends an Authorization header, which is not CORS-safelisted).
  app.options('/notes', async (request, reply) => {
    const origin = request.headers.origin;
    if (typeof origin === 'string' && corsOrigins.has(origin)) {
      reply
        .header('access-control-allow-methods', 'GET')
        .header('access-control-allow-headers', 'Authorization')
        .header('access-control-max-age', '600');
    }
    return reply.code(204).send();
  });

  app.get(LATER_NOTES_PATH, { preHandler: requireTokenTomorrow([DEMO_RESOURCE_SCOPE]) }, async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ notes: [] }),
  );

  app.get('/notes', { preHandler: requireToken([DEMO_RESOURCE_SCOPE]) }, async (request, reply) => {
    const claims = request.accessToken!;
    let notes = notesBySubject.get(claims.sub);
    if (!notes) {
      if (notesBySubject.size >= 1000) notesBySubject.clear();
      notes = starterNotes();
      notesBySubject.set(claims.sub, notes);
    }
    return reply.header('cache-control', 'no-store').send({
      sub: claims.sub,
      client_id: claims.client_id,
      scope: claims.scope ?? '',
      aud: claims.aud,
      notes,
    });
  });

  registerProtectedResourceMetadata(app, verifier);
  return { app, verifier };
}
