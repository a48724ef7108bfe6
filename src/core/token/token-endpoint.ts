/**
 * The token endpoint (back channel), RFC 6749 §3.2 and §5.
 *
 * It authenticates the client, then hands the request to the handler of its grant type. Each
 * grant lives in its own file under ./grants and implements `GrantHandler`; the handlers are
 * listed in ./grants/grant-registry.ts. A handler sees only the parameters it declares
 * (`allowedParams`); the others are ignored (RFC 6749 §3.2).
 */
import type { Client } from '../../store/store.js';
import {
  authenticateClient,
  type ClientAuthenticationDeps,
  type ClientAuthenticationRequest,
} from '../clients/client-authentication.js';
import { verifyDpopProof, type DpopProofDeps, type DpopRequest } from '../dpop/dpop-proof.js';
import {
  InvalidClient,
  InvalidDpopProof,
  InvalidRequest,
  OAuthError,
  UnauthorizedClient,
  UnsupportedGrantType,
} from '../errors.js';
import type { TokenResponse } from './grant-handler.js';
import { GRANT_HANDLERS, type GrantDeps } from './grants/grant-registry.js';
import { FAPI2_SIGNING_ALGS, usesFapi2 } from '../profile/fapi2-profile.js';
import type { DpopProof } from '../dpop/dpop-proof-jwt.js';
import { noteClientActive, type ClientActivityDeps } from '../registration/client-activity.js';

export interface TokenRequest extends ClientAuthenticationRequest {
  /** RFC 9449 §5: the request's DPoP proof (its header undefined when none was sent). */
  dpop: DpopRequest;
}

/** What the token endpoint uses: client authentication, the grants', DPoP proofs, and a fresh read of a client it must not trust from the cache. */
export type TokenEndpointDeps = ClientAuthenticationDeps & GrantDeps & DpopProofDeps & ClientActivityDeps;

export async function handleTokenRequest(request: TokenRequest, context: TokenEndpointDeps): Promise<TokenResponse> {
  const { params } = request;
  let client: Client | undefined;
  const grantType = params.get('grant_type') ?? null;
  try {
    if (grantType === null) throw new InvalidRequest('grant_type is required');
    const handler = GRANT_HANDLERS.get(grantType);
    // RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
    params.assertNoDuplicates(handler?.repeatableParams);
    if (!handler) throw new UnsupportedGrantType(`grant_type ${grantType} is not supported`);
    client = await authenticateClient(request, context);
    if (!client.grantTypes.includes(grantType)) {
      throw new UnauthorizedClient(`this client is not allowed to use the ${grantType} grant`);
    }
    // RFC 9449 §5: a valid proof binds the tokens to its key; §5.2: some clients must send one.
    const proof = await verifyDpopProof(request.dpop, context);
    if (proof === undefined && client.dpopBoundAccessTokens) {
      throw new InvalidDpopProof(
        'this client must send a DPoP proof with every token request (dpop_bound_access_tokens)',
      );
    }
    if (usesFapi2(client, context.settings)) checkFapi2Proof(proof);
    try {
      const response = await handler.handle(params.only(handler.allowedParams), client, context, {
        dpopJkt: proof?.jkt,
      });
      // A self-registered client in use is not abandoned (at most one write an hour). The mark
      // only delays a cleanup, so a failure to write it must not fail the issued tokens.
      await noteClientActive(client, context).catch(() => {});
      return response;
    } catch (error) {
      // A client deleted on another instance may still be in this instance's cache for up to its
      // TTL; then the store refuses to write tokens for it (foreign keys). That is
      // invalid_client (RFC 6749 §5.2), not a server error.
      if (!(error instanceof OAuthError) && (await context.clients.fresh(client.clientId)) === undefined) {
        throw new InvalidClient('unknown client or wrong credentials', {
          usedBasic: /^basic /i.test(request.authorization ?? ''),
        });
      }
      throw error;
    }
  } catch (error) {
    if (error instanceof OAuthError) {
      context.events.emit({
        type: 'token.refused',
        flowId: error.flowId,
        clientId: client?.clientId ?? null,
        grantType,
        error: error.error,
        // The operator's events (log, audit trail) say which client authentication check failed.
        description: error instanceof InvalidClient ? error.reason : error.description,
      });
    }
    throw error;
  }
}

/**
 * FAPI 2.0 Security Profile §5.3.2.1: a fapi2 client gets only sender-constrained tokens, so
 * every token request carries a DPoP proof (RFC 9449 §5), and §5.4.1 signed with PS256, ES256
 * or EdDSA.
 */
function checkFapi2Proof(proof: DpopProof | undefined): void {
  if (proof === undefined) {
    throw new InvalidDpopProof(
      'the FAPI 2.0 Security Profile (section 5.3.2.1) requires sender-constrained tokens: send a DPoP proof with every token request',
    );
  }
  if (!FAPI2_SIGNING_ALGS.includes(proof.alg)) {
    throw new InvalidDpopProof(
      `the FAPI 2.0 Security Profile (section 5.4.1) allows DPoP proofs signed with ${FAPI2_SIGNING_ALGS.join(', ')} only, not ${proof.alg}`,
    );
  }
}
