/**
 * Turning a Fastify request into the framework-free inputs the protocol handlers take.
 */
import type { FastifyRequest } from 'fastify';
import type { BrowserState } from '../core/authorize/authorization-endpoint.js';
import { InvalidRequest } from '../core/errors.js';
import { Params } from '../core/params.js';
import { BROWSER_COOKIE, SESSION_COOKIE, parseCookies } from './cookies.js';

/** The query string as Params (not Fastify's parsed query, which merges repeated names). */
export function queryParams(request: FastifyRequest): Params {
  const url = request.raw.url ?? '';
  const question = url.indexOf('?');
  return Params.fromUrlEncoded(question < 0 ? '' : url.slice(question + 1));
}

/** The form body; only `application/x-www-form-urlencoded` bodies are parsed into Params. */
export function formParams(request: FastifyRequest): Params {
  if (request.body instanceof Params) return request.body;
  throw new InvalidRequest('content type must be application/x-www-form-urlencoded');
}

export function browserState(request: FastifyRequest): BrowserState {
  const cookies = parseCookies(request.headers.cookie);
  return { sessionId: cookies.get(SESSION_COOKIE), browserId: cookies.get(BROWSER_COOKIE) };
}
