/**
 * Admin API: signing keys (OpenID Connect Core §10.1.1 rotation): listed with their state,
 * rotated (a new key, published at once, signing after the activation delay), retired (stops
 * signing, stays published until the tokens it signed have expired). Private keys never leave
 * the store. The logic is src/core/admin/key-administration.ts, with the rules of `gatehouse keys`.
 */
import type { FastifyInstance } from 'fastify';
import type { ProviderContext } from '../../../core/context.js';
import { paginate, sortedBy } from '../../../core/admin/admin-listing.js';
import { keyRetentionMs, listKeys, retireKey, rotateKey } from '../../../core/admin/key-administration.js';
import type { KeyState } from '../../../core/keys/key-lifecycle.js';
import type { SigningKeyRecord } from '../../../store/store.js';
import { originOf, type AdminGuard } from './admin-guard.js';
import { NULLABLE_TIME, PAGE_QUERY, PROBLEM_RESPONSES, TIME, isoTime, page } from './admin-schemas.js';

const KEY = {
  type: 'object',
  required: ['kid', 'alg', 'state', 'created_at', 'activates_at', 'retired_at', 'published_until'],
  properties: {
    kid: { type: 'string' },
    alg: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'active', 'previous', 'retired', 'expired'] },
    created_at: TIME,
    activates_at: TIME,
    retired_at: NULLABLE_TIME,
    published_until: { ...NULLABLE_TIME, description: 'when a retired key leaves the JWKS' },
  },
} as const;

function keyView(record: SigningKeyRecord, state: KeyState, retentionMs: number) {
  return {
    kid: record.kid,
    alg: record.alg,
    state,
    created_at: isoTime(record.createdAt)!,
    activates_at: isoTime(record.activatesAt)!,
    retired_at: isoTime(record.retiredAt),
    published_until: record.retiredAt === null ? null : isoTime(record.retiredAt + retentionMs),
  };
}

export function registerAdminKeyRoutes(app: FastifyInstance, context: ProviderContext, guard: AdminGuard): void {
  const deps = { store: context.store, events: context.events, settings: context.settings, now: () => context.now() };
  const tags = ['keys'];
  const retention = () => keyRetentionMs(context.settings);

  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/keys',
    {
      onRequest: guard('keys', 'read'),
      schema: {
        tags,
        summary: 'List signing keys with their state (by kid)',
        querystring: { type: 'object', properties: { ...PAGE_QUERY } },
        response: { 200: page(KEY, 'A page of keys'), ...PROBLEM_RESPONSES },
      },
    },
    async (request) => {
      const views = (await listKeys(deps)).map(({ record, state }) => keyView(record, state, retention()));
      return paginate(
        sortedBy(views, (view) => view.kid),
        (view) => view.kid,
        request.query,
      );
    },
  );

  app.post<{ Body: { alg?: string; activate_after_seconds?: number } }>(
    '/keys',
    {
      onRequest: guard('keys', 'write'),
      schema: {
        tags,
        summary: 'Rotate: create a signing key, published in the JWKS at once, signing after the activation delay',
        body: {
          type: 'object',
          properties: {
            alg: { type: 'string', enum: ['ES256', 'EdDSA', 'RS256'], description: 'default: signing_alg' },
            activate_after_seconds: {
              type: 'integer',
              minimum: 0,
              maximum: 31536000,
              description: 'default: key_activation_delay_seconds',
            },
          },
        },
        response: { 201: { description: 'The new key', ...KEY }, ...PROBLEM_RESPONSES },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const record = await rotateKey(
        { alg: body.alg, activateAfterSeconds: body.activate_after_seconds },
        deps,
        originOf(request),
      );
      const state = record.activatesAt > context.now() ? 'pending' : 'active';
      return reply.code(201).send(keyView(record, state, retention()));
    },
  );

  app.post<{ Params: { kid: string } }>(
    '/keys/:kid/retire',
    {
      onRequest: guard('keys', 'write'),
      schema: {
        tags,
        summary: 'Retire a key: it stops signing and stays in the JWKS until every token it signed has expired',
        params: { type: 'object', required: ['kid'], properties: { kid: { type: 'string' } } },
        response: { 200: { description: 'The retired key', ...KEY }, ...PROBLEM_RESPONSES },
      },
    },
    async (request) => keyView(await retireKey(request.params.kid, deps, originOf(request)), 'retired', retention()),
  );
}
