/**
 * The common end of every grant: mint the access token (and the ID token when the scope has
 * `openid` and there is a user), attach the refresh token, emit `token.issued`.
 */
import type { AccessTokenRecord, AccessTokenRepository, Actor, Client } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { formatScope } from '../scope.js';
import { prepareAccessToken, type TokenAuthorization } from './access-token.js';
import type { TokenResponse } from './grant-handler.js';
import { CLAIM_SCOPES, claimsForScopes } from '../users/user-claims.js';
import { idTokenAlgFor, idTokenIncludesClaims, idTokenSigner } from './id-token.js';

export interface TokenIssue extends TokenAuthorization {
  client: Client;
  nonce: string | null;
  /** The single sign-on session's public id, for the ID token (from the grant). */
  sid: string | null;
  refreshToken: string | null;
  grantType: string;
  /** RFC 8693 §4.1: who acts for the subject (token exchange only). */
  act?: Actor;
  /** RFC 9449 §6.1: the DPoP key the access token is bound to (`cnf.jkt`, token_type DPoP). */
  dpopJkt: string | undefined;
}

/** Tokens whose records are stored and whose keys are chosen, but which are not signed yet. */
export interface PreparedTokens {
  /** Synchronous: node:crypto signs (../keys/jws-signer.ts). */
  sign(): TokenResponse;
}

/** What issuing tokens uses: the access token's record is written, the user read for the ID token's claims. */
export type IssueTokensDeps = Pick<ProviderContext, 'settings' | 'keys' | 'subjects' | 'events' | 'users'> & {
  store: { accessTokens: Pick<AccessTokenRepository, 'create'> };
};

/**
 * A `store` for prepareTokens that keeps the access token's record instead of writing it, for a
 * grant that stores it with the rest of its one atomic store step (codes.redeem,
 * refreshTokens.rotate); `record()` gives it once prepareTokens has chosen it.
 */
export function keptAccessToken(): { store: IssueTokensDeps['store']; record(): AccessTokenRecord } {
  let kept: AccessTokenRecord | undefined;
  return {
    store: {
      accessTokens: {
        create: async (record) => {
          kept = record;
        },
      },
    },
    record() {
      if (kept === undefined) throw new Error('prepareTokens chose no access token record');
      return kept;
    },
  };
}

/** Issues the tokens at once: for grants that run outside a transaction (client credentials). */
export async function issueTokens(issue: TokenIssue, context: IssueTokensDeps, now: number): Promise<TokenResponse> {
  return (await prepareTokens(issue, context, now)).sign();
}

/**
 * Does everything the tokens need but the signatures: stores the access token's record, chooses
 * the keys, emits `token.issued`. A grant that runs in a transaction (code redemption, refresh
 * rotation) signs after the commit, so that the transaction (on SQLite: the only connection) is
 * held no longer than the writes need. Once prepared, only the signature itself is left to fail,
 * which it does not with a key the ring has loaded.
 */
export async function prepareTokens(issue: TokenIssue, context: IssueTokensDeps, now: number): Promise<PreparedTokens> {
  const { settings } = context;
  // RFC 9068 §2.2 `sub`: the user (as this client sees it, OIDC Core §8), or the client itself
  // when no user is involved (client credentials).
  const subject = issue.userId === null ? issue.client.clientId : context.subjects.of(issue.client, issue.userId);
  const accessToken = await prepareAccessToken(
    {
      issuer: settings.issuer,
      clientId: issue.client.clientId,
      subject,
      userId: issue.userId,
      scope: issue.scope,
      audience: issue.audience,
      grantId: issue.grantId,
      flowId: issue.flowId,
      authTime: issue.authTime,
      ttlSeconds: settings.accessTokenTtlSeconds,
      now,
      ...(issue.act !== undefined ? { act: issue.act } : {}),
      ...(issue.dpopJkt !== undefined ? { dpopJkt: issue.dpopJkt } : {}),
    },
    context.keys,
    context.store,
  );
  // OIDC Core §3.1.3.3 and §12.2: an ID token when the scope has `openid` and a user signed in.
  const signIdToken =
    issue.scope.includes('openid') && issue.userId !== null && issue.authTime !== null
      ? idTokenSigner(
          {
            issuer: settings.issuer,
            clientId: issue.client.clientId,
            subject,
            authTime: issue.authTime,
            nonce: issue.nonce,
            sid: issue.sid,
            alg: idTokenAlgFor(issue.client, settings),
            ttlSeconds: settings.accessTokenTtlSeconds,
            now,
            ...(await idTokenUserClaims(issue, issue.userId, subject, context)),
          },
          context.keys,
        )
      : null;
  context.events.emit(
    {
      type: 'token.issued',
      flowId: issue.flowId,
      clientId: issue.client.clientId,
      grantType: issue.grantType,
      jti: accessToken.jti,
      grantId: issue.grantId,
      userId: issue.userId,
    },
    now,
  );
  return {
    sign() {
      const token = accessToken.sign();
      const response: TokenResponse = {
        access_token: token,
        token_type: issue.dpopJkt !== undefined ? 'DPoP' : 'Bearer',
        expires_in: accessToken.expiresIn,
        scope: formatScope(issue.scope),
      };
      if (issue.refreshToken !== null) response.refresh_token = issue.refreshToken;
      // OIDC Core §3.1.3.6: at_hash binds the ID token to this access token.
      if (signIdToken !== null) response.id_token = signIdToken(token);
      return response;
    },
  };
}

/**
 * OIDC Core §5.4: the claims the granted scopes release, for the ID token of a client that takes
 * them there (idTokenIncludesClaims). The user is read only then, and only when a scope asks
 * for a claim (an `openid`-only token costs no read). A user deleted meanwhile gets none.
 */
async function idTokenUserClaims(
  issue: TokenIssue,
  userId: string,
  subject: string,
  context: Pick<ProviderContext, 'settings' | 'users'>,
): Promise<{ userClaims?: Record<string, unknown> }> {
  if (!idTokenIncludesClaims(issue.client, context.settings.idTokenClaimsDefault)) return {};
  if (!issue.scope.some((scope) => CLAIM_SCOPES.has(scope))) return {};
  const user = await context.users.findById(userId);
  if (!user) return {};
  const { sub: _sub, ...claims } = claimsForScopes(user, issue.scope, subject);
  return { userClaims: claims };
}
