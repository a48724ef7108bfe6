/**
 * Express-style (connect) middleware for the resource-server verifier, typed against Node's http module only,
 * so it needs no express dependency and also works with plain `node:http`.
 *
 * Body tokens (RFC 6750 §2.2), only for `POST` with `Content-Type: application/x-www-form-urlencoded`:
 * - if a body parser already ran (`req.body` is set), its result is used (string, Buffer or plain object);
 * - otherwise the middleware reads the stream itself (up to 1 MiB) and sets `req.body` to the parsed fields
 *   (a `querystring.parse` object, like `express.urlencoded({ extended: false })`), so register body parsers
 *   *before* this middleware if the route needs a different shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { AccessTokenClaims, ResourceVerifier } from './verifier.js';
import { BearerError, assertScopeTokens, formBodyFromParsed, webRequestFromNode } from './verifier.js';
import { METADATA_HEADERS, protectedResourceMetadataPath } from './syntax.js';

/** The request as seen by the middleware: Node's, plus what body parsers and this middleware add. */
export type ProtectedIncomingMessage = IncomingMessage & { body?: unknown; accessToken?: AccessTokenClaims };

export type ExpressStyleMiddleware = (
  req: ProtectedIncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

const MAX_FORM_BYTES = 1024 * 1024;

class BodyTooLarge extends Error {}

/**
 * `app.use('/api', protectExpress(verifier, ['read']))`. On success sets `req.accessToken` and calls `next()`.
 * Bearer failures are answered with status, `WWW-Authenticate` and `{ error, error_description }`; other errors
 * (such as `AuthorizationServerUnavailableError`, `status` 503) go to `next(error)`.
 */
export function protectExpress(verifier: ResourceVerifier, requiredScopes: string[] = []): ExpressStyleMiddleware {
  assertScopeTokens(requiredScopes);
  const scopes = [...requiredScopes];
  return (req, res, next) => {
    handle(verifier, scopes, req, res).then(
      (claims) => {
        if (claims === undefined) return; // already answered
        req.accessToken = claims;
        next();
      },
      (error: unknown) => next(error),
    );
  };
}

async function handle(
  verifier: ResourceVerifier,
  scopes: string[],
  req: ProtectedIncomingMessage,
  res: ServerResponse,
): Promise<AccessTokenClaims | undefined> {
  let formBody: string | undefined;
  if (isFormPost(req)) {
    if (req.body !== undefined) {
      formBody = formBodyFromParsed(req.body);
    } else if (!req.readableEnded) {
      try {
        formBody = await readBody(req);
      } catch (error) {
        if (!(error instanceof BodyTooLarge)) throw error;
        sendJson(res, 413, { error: 'invalid_request', error_description: 'request body too large' });
        return undefined;
      }
      req.body = parseQueryString(formBody);
    }
  }
  try {
    return await verifier.verify(webRequestFromNode(req, formBody), scopes);
  } catch (error) {
    if (!(error instanceof BearerError)) throw error;
    res.setHeader('www-authenticate', error.wwwAuthenticate);
    sendJson(res, error.status, error.toJSON());
    return undefined;
  }
}

function isFormPost(req: IncomingMessage): boolean {
  const contentType = req.headers['content-type'];
  return (
    req.method === 'POST' &&
    typeof contentType === 'string' &&
    contentType.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded'
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_FORM_BYTES) throw new BodyTooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

/** Handler serving the RFC 9728 §3 protected resource metadata, e.g. `app.get(path, protectedResourceMetadataHandler(v))`. */
export function protectedResourceMetadataHandler(
  verifier: ResourceVerifier,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    res.statusCode = 200;
    for (const [name, value] of Object.entries(METADATA_HEADERS)) res.setHeader(name, value);
    res.end(JSON.stringify(verifier.metadata()));
  };
}

/**
 * The RFC 9728 §3 metadata route in one call, for Express (`app.use(serveProtectedResourceMetadata(verifier))`)
 * or plain `node:http` (call it first; it calls `next()` for every other request): answers GET and HEAD at
 * the path of the verifier's `resourceMetadataUrl` (RFC 9728 §3.1: `/.well-known/oauth-protected-resource/mcp`
 * for a resource `https://api.example.com/mcp`), or at `options.path`.
 */
export function serveProtectedResourceMetadata(
  verifier: ResourceVerifier,
  options: { path?: string } = {},
): ExpressStyleMiddleware {
  const path = options.path ?? protectedResourceMetadataPath(verifier.resourceMetadataUrl);
  const handler = protectedResourceMetadataHandler(verifier);
  return (req, res, next) => {
    const requestPath = (req.url ?? '/').split('?')[0];
    if (requestPath !== path || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    handler(req, res);
  };
}
