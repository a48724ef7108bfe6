/**
 * The ceiling: a bare Fastify server (no logging, no plugins) that answers every endpoint the
 * scenarios use with a small JSON body (the authorization endpoint with a redirect carrying a
 * code, as the flow needs), checking nothing. `node --import tsx bench/servers/fastify-bare.ts`.
 */
import Fastify from 'fastify';
import {
  announceReady,
  endpointsAt,
  exitOnSignal,
  INTROSPECTOR_CLIENT_ID,
  RESOURCE,
  SERVICE_CLIENT_ID,
  SIGNER_CLIENT_ID,
  WEB_CLIENT_ID,
} from '../lib/common.js';

const app = Fastify({ logger: false });
// Accept form bodies as they are (the real servers parse them; the ceiling does not care).
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
  done(null, body),
);

let counter = 0;
let issuer = '';

app.get('/.well-known/openid-configuration', async () => ({ issuer }));
app.get('/authorize', async (request, reply) => {
  const query = request.query as Record<string, string | undefined>;
  const location = new URL(query['redirect_uri'] ?? 'http://127.0.0.1:9000/callback');
  location.searchParams.set('code', `c${++counter}`);
  if (query['state'] !== undefined) location.searchParams.set('state', query['state']);
  return reply.code(303).header('location', location.href).send();
});
app.post('/token', async () => ({
  access_token: 'a.b.c',
  token_type: 'Bearer',
  expires_in: 3600,
  refresh_token: `r${++counter}`,
  id_token: 'a.b.c',
}));
app.post('/introspect', async () => ({ active: true }));

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
if (address === null || typeof address === 'string') throw new Error('no address');
issuer = `http://127.0.0.1:${address.port}`;

const unused = { id: 'unused', secret: 'unused' };
announceReady({
  kind: 'ceiling',
  pid: process.pid,
  port: address.port,
  issuer,
  endpoints: endpointsAt(issuer, { authorization: '/authorize', token: '/token', introspection: '/introspect' }),
  clients: {
    web: { ...unused, id: WEB_CLIENT_ID },
    service: { ...unused, id: SERVICE_CLIENT_ID },
    introspector: { ...unused, id: INTROSPECTOR_CLIENT_ID },
    signer: { ...unused, id: SIGNER_CLIENT_ID },
  },
  introspectionResource: RESOURCE,
  notes: { server: 'bare Fastify, small JSON bodies' },
});

exitOnSignal(() => app.close());
