/**
 * The URIs of RFC 8693 (OAuth 2.0 Token Exchange): its grant type (§2.1) and the token type
 * identifiers (§3) Gatehouse reads and issues.
 */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** RFC 8693 §3: an OAuth 2.0 access token issued by this authorization server. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** RFC 8693 §3 (from RFC 7519 §9): a JWT; Gatehouse's access tokens are JWTs (RFC 9068). */
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
