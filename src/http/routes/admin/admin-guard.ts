/**
 * The admin API's access check, as an onRequest hook per route: the Bearer access token (RFC 6750
 * §2.1) is verified by gatehouse-resource (src/resource: RFC 9068 signature, issuer, audience
 * `<issuer>/admin/v1`, expiry), then src/core/admin/admin-access.ts decides what it may do. It
 * runs before the body is parsed or validated, so that no unauthorized request learns anything
 * of the schemas. The verifier reads this instance's own key ring instead of fetching the JWKS.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ProviderContext } from '../../../core/context.js';
import {
  ADMIN_SCOPES,
  adminAudience,
  authorizeAdmin,
  type AdminAccess,
  type AdminActor,
  type AdminFamily,
} from '../../../core/admin/admin-access.js';
import { AdminTokenRefused } from '../../../core/errors.js';
import {
  BearerError,
  createVerifier,
  webRequestFromFastify,
  type ResourceVerifier,
} from '../../../resource/resource.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin API's guard: who makes the request. */
    adminActor?: AdminActor;
  }
}

/** Every algorithm this server signs access tokens with (settings.signingAlg). */
const ACCESS_TOKEN_ALGS = ['ES256', 'EdDSA', 'RS256'];

export type AdminGuard = (family: AdminFamily, access: AdminAccess) => onRequestAsyncHookHandler;

/**
 * The verifier of admin API access tokens for this server's current issuer (also the console's,
 * src/http/routes/console/, which checks its session's token the same way).
 */
export function adminTokenVerifier(context: ProviderContext): () => ResourceVerifier {
  // The issuer can be settled after the routes are registered (a server on a random port).
  let cached: { issuer: string; verifier: ResourceVerifier } | undefined;
  const verifier = (): ResourceVerifier => {
    const issuer = context.settings.issuer;
    if (cached?.issuer === issuer) return cached.verifier;
    const jwksUri = `${issuer.replace(/\/+$/, '')}/jwks`;
    // No metadata document (404): the verifier uses Gatehouse's fixed /jwks path, answered here.
    const localFetch: typeof fetch = async (input) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url === jwksUri) return Response.json(context.keys.jwks(context.now()));
      return new Response(null, { status: 404 });
    };
    const audience = adminAudience(issuer);
    cached = {
      issuer,
      verifier: createVerifier({
        issuer,
        audience,
        algorithms: ACCESS_TOKEN_ALGS,
        fetch: localFetch,
        clock: () => context.now(),
        scopesSupported: [...ADMIN_SCOPES],
        resourceName: 'Gatehouse admin API',
        resourceMetadataUrl: adminResourceMetadataUrl(issuer),
        // Keys rotated on another instance are loaded by this one within its reload interval.
        jwksCooldownSeconds: 5,
        // RFC 9449 §4.3: a DPoP proof's htu names the URL the client called: under the issuer's
        // origin (also behind a proxy); on a listener of its own (admin.listen), the request's.
        ...(context.settings.admin.listen === undefined ? { dpop: { origin: new URL(issuer).origin } } : {}),
      }),
    };
    return cached.verifier;
  };
  return verifier;
}

export function adminGuard(context: ProviderContext): AdminGuard {
  const verifier = adminTokenVerifier(context);
  return (family, access) =>
    async function checkAdminToken(request: FastifyRequest, _reply: FastifyReply) {
      const current = verifier();
      const claims = await current.verify(webRequestFromFastify(request));
      try {
        request.adminActor = await authorizeAdmin(claims, family, access, context);
      } catch (error) {
        if (!(error instanceof AdminTokenRefused)) throw error;
        // RFC 6750 §3.1: the same challenge as the verifier's own refusals.
        throw new BearerError({
          status: error.error === 'insufficient_scope' ? 403 : 401,
          error: error.error,
          description: error.description,
          ...(error.scope !== undefined ? { scope: error.scope } : {}),
          challenge: {
            realm: adminAudience(context.settings.issuer),
            resourceMetadataUrl: current.resourceMetadataUrl,
          },
        });
      }
    };
}

/** RFC 9728 §3.1: where the admin API's protected resource metadata is, for an issuer. */
export function adminResourceMetadataUrl(issuer: string): string {
  const url = new URL(adminAudience(issuer));
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname}`;
}

/** The actor the guard set (every admin route has the guard). */
export function actorOf(request: FastifyRequest): AdminActor {
  if (request.adminActor === undefined) throw new Error('admin route without the admin guard');
  return request.adminActor;
}

/** How a change made by this request is announced: the admin API, and who made it. */
export function originOf(request: FastifyRequest) {
  const actor = actorOf(request);
  return { source: 'admin_api' as const, actor: { clientId: actor.clientId, userId: actor.userId } };
}
