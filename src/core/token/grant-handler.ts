/**
 * The interface every grant type implements (one file per grant under ./grants), and the
 * RFC 6749 §5.1 response they produce.
 */
import type { Client } from '../../store/store.js';
import type { Params } from '../params.js';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
  /** RFC 8693 §2.2.1: the type of the token issued by a token exchange. */
  issued_token_type?: string;
}

/**
 * A grant is generic over its dependencies `D`: each grant's file declares the ones it uses
 * (which repositories, the key ring, ...) beside its handler. The registry holds them as
 * GrantHandler<GrantDeps>, GrantDeps being what all grants together use
 * (./grants/grant-registry.ts), which is what the token endpoint passes.
 */
export interface GrantHandler<D> {
  readonly grantType: string;
  /**
   * The request parameters this grant reads, besides `grant_type` and the client
   * authentication parameters (RFC 6749 §2.3.1), which the token endpoint reads itself. The
   * handler is given only these; any other parameter is ignored (RFC 6749 §3.2: "The
   * authorization server MUST ignore unrecognized request parameters").
   */
  readonly allowedParams: readonly string[];
  /** Parameters of `allowedParams` this grant lets repeat (RFC 8707 §2: `resource`). */
  readonly repeatableParams?: readonly string[];
  handle(params: Params, client: Client, context: D): Promise<TokenResponse>;
}
