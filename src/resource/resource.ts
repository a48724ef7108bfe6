/**
 * `gatehouse-resource`: accept Gatehouse access tokens at an API (RFC 6750, RFC 9068, RFC 7662, RFC 9728).
 */
import { createVerifier } from './verifier.js';
import type { ResourceVerifier, VerifierOptions } from './verifier.js';

export {
  AuthorizationServerUnavailableError,
  BearerError,
  assertScopeTokens,
  createVerifier,
  formBodyFromParsed,
  protectedResourceMetadataUrl,
  webRequestFromNode,
} from './verifier.js';
export { protectedResourceMetadataPath } from './syntax.js';
export type {
  AccessTokenClaims,
  BearerErrorCode,
  NodeRequestLike,
  ProtectedResourceMetadata,
  ResourceVerifier,
  VerifierOptions,
} from './verifier.js';
export {
  protectFastify,
  registerProtectedResourceMetadata,
  sendBearerError,
  webRequestFromFastify,
} from './fastify.js';
export { protectExpress, protectedResourceMetadataHandler, serveProtectedResourceMetadata } from './express.js';
export type { ExpressStyleMiddleware, ProtectedIncomingMessage } from './express.js';

/** Convenience alias of `createVerifier`. */
export function protect(options: VerifierOptions): ResourceVerifier {
  return createVerifier(options);
}
