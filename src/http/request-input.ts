/**
 * Turning a Fastify request into the framework-free inputs the protocol handlers take.
 *
 * Every parameter set is checked for control characters here, once for every endpoint (see
 * Params.assertNoControlCharacters); the size caps apply while parsing (Params.fromUrlEncoded).
 */
import type { FastifyRequest } from 'fastify';
import { InvalidRequest } from '../core/errors.js';
import { Params } from '../core/params.js';
import { BROWSER_COOKIE, DEVICE_COOKIE, SESSION_COOKIE, parseCookies, readCookie } from './cookies.js';
import type { BrowserState } from '../core/browser/browser-session.js';
import type { ClientAuthenticationRequest } from '../core/clients/client-authentication.js';

export interface InputOptions {
  /** Parameters that may hold control characters (a password: never shown, never logged). */
  controlCharactersAllowedIn?: readonly string[];
}

/** The query string as Params (not Fastify's parsed query, which merges repeated names). */
export function queryParams(request: FastifyRequest, options: InputOptions = {}): Params {
  const url = request.raw.url ?? '';
  const question = url.indexOf('?');
  const params = Params.fromUrlEncoded(question < 0 ? '' : url.slice(question + 1));
  params.assertNoControlCharacters(options.controlCharactersAllowedIn);
  return params;
}

/** The form body; only `application/x-www-form-urlencoded` bodies are parsed into Params. */
export function formParams(request: FastifyRequest, options: InputOptions = {}): Params {
  const params = optionalFormParams(request, options);
  if (params === undefined) throw new InvalidRequest('content type must be application/x-www-form-urlencoded');
  return params;
}

/** The form body if the request has one (a POST may come without a body), else undefined. */
export function optionalFormParams(request: FastifyRequest, options: InputOptions = {}): Params | undefined {
  if (!(request.body instanceof Params)) return undefined;
  request.body.assertNoControlCharacters(options.controlCharactersAllowedIn);
  return request.body;
}

/** The session, browser-binding and device cookies; `secure`: the issuer is https (`__Host-` names, src/http/cookies.ts). */
export function browserState(request: FastifyRequest, secure: boolean): BrowserState {
  const cookies = parseCookies(request.headers.cookie);
  return {
    sessionId: readCookie(cookies, SESSION_COOKIE, secure),
    browserId: readCookie(cookies, BROWSER_COOKIE, secure),
    deviceCookie: readCookie(cookies, DEVICE_COOKIE, secure),
    userAgent: request.headers['user-agent'],
  };
}

/**
 * The input of a back-channel endpoint that authenticates the client (token, revocation,
 * introspection): the form body, the Authorization header, the address, and the endpoint's path
 * (an `aud` a client assertion may name, src/core/clients/client-assertion.ts).
 */
export function clientAuthenticationInput(request: FastifyRequest, endpointPath: string): ClientAuthenticationRequest {
  return {
    params: formParams(request),
    authorization: request.headers.authorization,
    clientIp: request.ip,
    endpointPath,
  };
}
