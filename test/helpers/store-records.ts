/**
 * Store records for tests that talk to the Store directly (the contract suite, cache and
 * change-feed tests): each a complete, valid record with unique ids, varied by `overrides`.
 */
import { randomUUID } from 'node:crypto';
import type {
  AccessTokenRecord,
  AuditEvent,
  AuthorizationCode,
  Client,
  DeviceCode,
  Grant,
  Interaction,
  ProtectedResource,
  PushedAuthorizationRequest,
  RefreshTokenRecord,
  Session,
  SigningKeyRecord,
  User,
} from '../../src/store/store.js';

/** A fixed "now" beyond 2^32 ms, so 32-bit truncation or string-typed BIGINTs would show. */
export const NOW = 1_750_000_000_000;
export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

export const uid = (prefix: string) => `${prefix}-${randomUUID()}`;

/** A grant of `clientId` to `userId` (null: client credentials), with a session id. */
export function makeGrant(clientId: string, userId: string | null, overrides: Partial<Grant> = {}): Grant {
  return {
    id: uid('grant'),
    flowId: uid('flow'),
    clientId,
    userId,
    scope: ['openid', 'profile'],
    sid: uid('sid'),
    createdAt: NOW,
    revokedAt: null,
    ...overrides,
  };
}

/** The grant fields that a code and a refresh token carry. */
function ofGrant(grant: Grant): Pick<AuthorizationCode, 'grantId' | 'flowId' | 'clientId'> {
  return { grantId: grant.id, flowId: grant.flowId, clientId: grant.clientId };
}

export function makeClient(overrides: Partial<Client> = {}): Client {
  return {
    clientId: uid('client'),
    clientSecretHash: 'secret-hash',
    clientName: 'Example App',
    redirectUris: ['https://app.example/cb', 'http://127.0.0.1:8080/cb'],
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    tokenEndpointAuthMethod: 'client_secret_basic',
    scope: 'openid profile email',
    requirePkce: true,
    idTokenSignedResponseAlg: null,
    subjectType: 'public',
    postLogoutRedirectUris: [],
    backchannelLogoutUri: null,
    backchannelLogoutSessionRequired: false,
    jwks: null,
    jwksUri: null,
    tokenEndpointAuthSigningAlg: null,
    clientSecretSealed: null,
    tokenExchangeResources: [],
    dpopBoundAccessTokens: false,
    requirePushedAuthorizationRequests: false,
    requestObjectSigningAlg: null,
    requireSignedRequestObject: false,
    profile: null,
    registrationKind: 'operator',
    createdAt: NOW,
    ...overrides,
  };
}

export function makeUser(overrides: Partial<User> = {}): User {
  return {
    id: uid('user'),
    username: uid('alice'),
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    email: 'alice@example.com',
    name: 'Alice',
    claims: {
      given_name: 'Alice',
      family_name: 'Liddell',
      email_verified: true,
      phone_number: '+44 20 7946 0000',
      phone_number_verified: false,
      address: { street_address: '1 Rabbit Hole', locality: 'Oxford', country: 'GB' },
      updated_at: Math.floor(NOW / 1000),
    },
    createdAt: NOW,
    ...overrides,
  };
}

export function makeInteraction(clientId: string, overrides: Partial<Interaction> = {}): Interaction {
  return {
    id: uid('interaction'),
    flowId: uid('flow'),
    clientId,
    request: {
      clientId,
      redirectUri: 'https://app.example/cb',
      redirectUriProvided: true,
      scope: ['openid', 'profile'],
      state: 'xyz',
      responseMode: 'query',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      codeChallengeMethod: 'S256',
      nonce: null,
      prompt: [],
      loginHint: null,
      maxAge: null,
      idTokenHintSub: null,
      uiLocales: [],
      resources: [],
    },
    browserBindingHash: 'binding-hash',
    csrfToken: 'csrf-token',
    createdAt: NOW,
    expiresAt: NOW + 10 * MINUTE,
    ...overrides,
  };
}

/** An RFC 9126 pushed authorization request of `clientId`, unused, expiring in a minute. */
export function makePushedRequest(
  clientId: string,
  overrides: Partial<PushedAuthorizationRequest> = {},
): PushedAuthorizationRequest {
  return {
    requestUriHash: uid('request-uri-hash'),
    clientId,
    parameters: [
      ['client_id', clientId],
      ['response_type', 'code'],
      ['resource', 'https://api.example/a'],
      ['resource', 'https://api.example/b'],
      ['state', 'xyz'],
    ],
    createdAt: NOW,
    expiresAt: NOW + MINUTE,
    consumedAt: null,
    ...overrides,
  };
}

export function makeCode(grant: Grant, overrides: Partial<AuthorizationCode> = {}): AuthorizationCode {
  return {
    codeHash: uid('code-hash'),
    ...ofGrant(grant),
    userId: grant.userId ?? 'no-user',
    redirectUri: 'https://app.example/cb',
    redirectUriProvided: false,
    scope: grant.scope,
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    codeChallengeMethod: 'S256',
    nonce: 'n-0S6_WzA2Mj',
    resources: ['https://api.example', 'https://files.example/v1'],
    authTime: NOW - MINUTE,
    createdAt: NOW,
    expiresAt: NOW + MINUTE,
    consumedAt: null,
    ...overrides,
  };
}

export function makeToken(
  clientId: string,
  grant: Grant | null,
  overrides: Partial<AccessTokenRecord> = {},
): AccessTokenRecord {
  return {
    jti: uid('jti'),
    grantId: grant?.id ?? null,
    flowId: grant?.flowId ?? null,
    clientId,
    userId: grant?.userId ?? null,
    scope: grant?.scope ?? ['api:read'],
    audience: ['https://api.example'],
    createdAt: NOW,
    expiresAt: NOW + 60 * MINUTE,
    revokedAt: null,
    ...overrides,
  };
}

/** A refresh token not rotated (yet). */
const UNROTATED = { rotatedAt: null, successorHash: null, successorEncrypted: null } as const;

export function makeRefreshToken(grant: Grant, overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return {
    tokenHash: uid('rt-hash'),
    ...ofGrant(grant),
    userId: grant.userId,
    scope: grant.scope,
    resources: ['https://api.example'],
    authTime: NOW - MINUTE,
    createdAt: NOW,
    expiresAt: NOW + 14 * DAY,
    familyExpiresAt: NOW + 30 * DAY,
    ...UNROTATED,
    ...overrides,
  };
}

/** What rotation would store as the successor of `token` at `now`. */
export function makeSuccessor(token: RefreshTokenRecord, now: number): RefreshTokenRecord {
  return {
    ...token,
    tokenHash: uid('rt-hash'),
    createdAt: now,
    expiresAt: Math.min(now + 14 * DAY, token.familyExpiresAt),
    ...UNROTATED,
  };
}

export function makeResource(overrides: Partial<ProtectedResource> = {}): ProtectedResource {
  return {
    identifier: `https://${uid('api')}.example/`,
    name: 'Example API',
    scopes: ['api:read', 'api:write'],
    introspectionClientIds: [uid('rs-client')],
    createdAt: NOW,
    ...overrides,
  };
}

export function makeSession(userId: string, overrides: Partial<Session> = {}): Session {
  return {
    userId,
    idHash: uid('session-hash'),
    sid: uid('sid'),
    authTime: NOW - MINUTE,
    createdAt: NOW - MINUTE,
    expiresAt: NOW + 60 * MINUTE,
    ...overrides,
  };
}

/** A pending RFC 8628 device code of `clientId`, expiring in 10 minutes. */
export function makeDeviceCode(clientId: string, overrides: Partial<DeviceCode> = {}): DeviceCode {
  return {
    deviceCodeHash: uid('device-code-hash'),
    userCodeHash: uid('user-code-hash'),
    flowId: uid('flow'),
    clientId,
    scope: ['openid', 'profile'],
    resources: ['https://api.example'],
    status: 'pending',
    userId: null,
    sid: null,
    authTime: null,
    intervalSeconds: 5,
    lastPolledAt: null,
    createdAt: NOW,
    expiresAt: NOW + 10 * MINUTE,
    consumedAt: null,
    ...overrides,
  };
}

export function makeSigningKey(overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid: uid('kid'),
    alg: 'ES256',
    publicJwk: '{}',
    privateJwkEncrypted: 'jwe',
    createdAt: NOW,
    activatesAt: NOW,
    retiredAt: null,
    ...overrides,
  };
}

/** An audit event of `type` at `at`, with no flow, client, user, ip or details unless `overrides` give them. */
export function makeAuditEvent(at: number, type: string, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    at,
    type,
    flowId: null,
    clientId: null,
    userId: null,
    username: null,
    ip: null,
    details: {},
    ...overrides,
  };
}
