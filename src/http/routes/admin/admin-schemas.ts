/**
 * The JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the admin API's requests and
 * responses, shared by its routes: Fastify validates the requests with them, serializes the
 * responses with them, and @fastify/swagger turns them into the OpenAPI document.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { entityTag } from '../../../core/admin/admin-listing.js';
import { MAX_PAGE_SIZE } from '../../../core/admin/admin-listing.js';

/** RFC 9457 §3 problem details, with the `errors` (validation) and `error` (RFC 6750) extensions. */
export const PROBLEM = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    error: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

/** An RFC 9457 §3 response: `application/problem+json`. */
function problem(description: string) {
  return { description, content: { 'application/problem+json': { schema: PROBLEM } } } as const;
}

/** The error responses every admin route may give (its own success responses are added per route). */
export const PROBLEM_RESPONSES = {
  400: problem('Invalid request (RFC 9457 problem details)'),
  401: problem('No usable access token (RFC 6750 §3.1 invalid_token)'),
  403: problem('The token lacks the scope, or its user the admin role'),
  404: problem('Not found'),
  409: problem('Conflict with the current state'),
  412: problem('If-Match does not match the current ETag'),
  415: problem('The body is not application/json'),
  422: problem('Validation failed'),
  428: problem('If-Match is required'),
  500: problem('Unexpected error'),
  503: problem('Temporarily unavailable'),
} as const;

export const TIME = { type: 'string', description: 'RFC 3339 date-time (UTC)' } as const;
export const NULLABLE_TIME = { type: ['string', 'null'], description: 'RFC 3339 date-time (UTC), or null' } as const;

/** `limit` and `cursor` of every listing. */
export const PAGE_QUERY = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, description: 'items per page (default 50)' },
  cursor: { type: 'string', description: 'the next_cursor of the previous page' },
} as const;

/** A page of `item`: `next_cursor` is null on the last page. */
export function page(item: object, description: string) {
  return {
    description,
    type: 'object',
    required: ['items', 'next_cursor'],
    properties: { items: { type: 'array', items: item }, next_cursor: { type: ['string', 'null'] } },
  } as const;
}

/** The `If-Match` header of a change (RFC 9110 §13.1.1). */
export const IF_MATCH_HEADERS = {
  type: 'object',
  properties: { 'if-match': { type: 'string', description: 'the ETag of the resource as last read, or *' } },
} as const;

/** Milliseconds since the epoch as RFC 3339, or null. */
export function isoTime(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** The request's If-Match header. */
export function ifMatchOf(request: FastifyRequest): string | undefined {
  const value = request.headers['if-match'];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Sends `view` with its ETag (RFC 9110 §8.8.3). */
export function sendTagged(reply: FastifyReply, view: unknown, status = 200): FastifyReply {
  return reply.code(status).header('etag', entityTag(view)).header('cache-control', 'no-store').send(view);
}
