/**
 * An API (Fastify) that accepts only access tokens Gatehouse issued for it, with the scope each
 * route needs. gatehouse-resource checks the signature (the issuer's JWKS), typ at+jwt
 * (RFC 9068), iss, aud, exp and the scopes, and answers failures as RFC 6750 §3 says.
 */
import Fastify from 'fastify';
import { createVerifier, protectFastify, registerProtectedResourceMetadata } from 'gatehouse-resource';

export function createNotesApi(options: {
  issuer: string; // e.g. https://auth.example.com
  audience: string; // this API's resource identifier, e.g. https://api.example.com/
}) {
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience });
  const requireToken = protectFastify(verifier);
  const app = Fastify();
  // GET /.well-known/oauth-protected-resource (RFC 9728): tells clients which server to ask.
  registerProtectedResourceMetadata(app, verifier);
  app.get('/notes', { preHandler: requireToken(['notes:read']) }, async (request) => ({
    owner: request.accessToken!.sub,
    notes: ['Buy milk'],
  }));
  app.post('/notes', { preHandler: requireToken(['notes:write']) }, async () => ({ saved: true }));
  return app;
}

// Run: GATEHOUSE_ISSUER=http://127.0.0.1:9001 npx tsx api.ts
if (import.meta.url === `file://${process.argv[1]}`) {
  const api = createNotesApi({ issuer: process.env.GATEHOUSE_ISSUER!, audience: 'http://127.0.0.1:9002/' });
  await api.listen({ host: '127.0.0.1', port: 9002 });
}
