/**
 * `token_exchange_resources`, a Gatehouse client metadata extension in the style of RFC 7591 §2:
 * the policy of which protected resources a client may get tokens for with the token exchange
 * grant (RFC 8693 §2; the RFC leaves this policy to the authorization server, §2.2.2 and §5).
 * The default is none: a client exchanges nothing until the operator names the resources.
 */
import { ClientMetadataError } from '../errors.js';
import { TOKEN_EXCHANGE_GRANT_TYPE } from '../token/token-types.js';

const FIELD = 'token_exchange_resources';

/**
 * The resources as registered: each an absolute URI without a fragment (RFC 8707 §2, as a
 * `resource` parameter must be; whether it is a registered resource is checked at exchange
 * time, so a client may be registered before its resources). They go with the token exchange
 * grant, both ways, and only with a confidential client: the exchange hands a user's authority
 * to the exchanging client, which must therefore prove who it is (RFC 8693 §5).
 */
export function validateTokenExchangeResources(
  resources: readonly string[],
  grantTypes: readonly string[],
  isPublic: boolean,
): string[] {
  const exchanges = grantTypes.includes(TOKEN_EXCHANGE_GRANT_TYPE);
  if (exchanges && isPublic) {
    throw new ClientMetadataError(
      'grant_types',
      `${TOKEN_EXCHANGE_GRANT_TYPE} requires a confidential client: the exchange acts for a user at another resource, so the client must authenticate (RFC 8693 §5)`,
    );
  }
  if (exchanges && resources.length === 0) {
    throw new ClientMetadataError(
      FIELD,
      `${FIELD} must name at least one resource for a client with the ${TOKEN_EXCHANGE_GRANT_TYPE} grant (the resources it may exchange tokens for)`,
    );
  }
  if (!exchanges && resources.length > 0) {
    throw new ClientMetadataError(FIELD, `${FIELD} is only used with the ${TOKEN_EXCHANGE_GRANT_TYPE} grant`);
  }
  resources.forEach((resource, index) => {
    let url: URL | undefined;
    try {
      url = new URL(resource);
    } catch {
      url = undefined;
    }
    if (url === undefined || resource.includes('#')) {
      throw new ClientMetadataError(
        `${FIELD}[${index}]`,
        `${FIELD}[${index}] ${JSON.stringify(resource)} must be an absolute URI without a fragment (RFC 8707 §2)`,
      );
    }
  });
  return [...new Set(resources)];
}
