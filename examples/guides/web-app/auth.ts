/**
 * Auth.js (NextAuth v5, @auth/core) with Gatehouse as an OpenID Connect provider. In Next.js this
 * object goes to NextAuth() in auth.ts; Auth.js uses PKCE and state by default and builds the
 * user from the ID token, which carries the profile and email claims (Gatehouse's
 * id_token_claims_default: true).
 */
import type { AuthConfig } from '@auth/core';

export function gatehouseAuthConfig(options: {
  issuer: string; // AUTH_GATEHOUSE_ISSUER, e.g. https://auth.example.com
  clientId: string; // AUTH_GATEHOUSE_ID
  clientSecret: string; // AUTH_GATEHOUSE_SECRET
  secret: string; // AUTH_SECRET: encrypts Auth.js's own session cookie
}): AuthConfig {
  return {
    providers: [
      {
        id: 'gatehouse', // the callback is /api/auth/callback/gatehouse
        name: 'Gatehouse',
        type: 'oidc',
        issuer: options.issuer,
        clientId: options.clientId,
        clientSecret: options.clientSecret, // sent as client_secret_basic, Auth.js's default
        authorization: { params: { scope: 'openid profile email' } },
      },
    ],
    secret: options.secret,
    basePath: '/api/auth',
    trustHost: true,
  };
}
