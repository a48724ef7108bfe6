/**
 * The token exchange grant, RFC 8693: a client (an agent, a service calling on) presents a
 * user's access token that Gatehouse issued and gets a new access token for another registered
 * resource, narrowed, naming itself as the actor (`act`, §4.1).
 *
 * Policy (RFC 8693 leaves it to the authorization server, §2.2.2 and §5): only confidential
 * clients with this grant, only for the resources in their `token_exchange_resources`; only
 * tokens issued for a user may be exchanged (a client acting for itself asks for a token for the
 * other resource with client credentials); the scope can only narrow, within the subject
 * token's scope and the client's registered scope; no refresh token and no ID token are issued.
 * The new token belongs to the subject token's grant, so revoking that grant (the user's
 * authorization, its refresh-token family) revokes what was exchanged from it.
 */
import type { AccessTokenRecord, Actor, Client } from '../../../store/store.js';
import type { ProviderContext } from '../../context.js';
import { InvalidRequest, InvalidScope, InvalidTarget } from '../../errors.js';
import type { Params } from '../../params.js';
import { requestedResources } from '../../resources/resource-indicators.js';
import { parseScope } from '../../scope.js';
import type { GrantHandler, TokenResponse } from '../grant-handler.js';
import { issueTokens, type IssueTokensDeps } from '../issue-tokens.js';
import { findAccessToken, isActive, subjectOfToken, type FindAccessTokenDeps } from '../token-lookup.js';
import { ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from '../token-types.js';

/** RFC 8693 §3: the types of token Gatehouse accepts as subject and actor tokens (its own JWT access tokens). */
const ACCEPTED_TOKEN_TYPES = [ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE];

/** How many actors a chain of exchanges may name (RFC 8693 §4.1 nests one `act` per exchange). */
export const MAX_ACTOR_DEPTH = 5;

/** What token exchange uses: finding the presented tokens, the registered resources, issuing the token. */
export type TokenExchangeGrantDeps = IssueTokensDeps &
  FindAccessTokenDeps &
  Pick<ProviderContext, 'resources' | 'clients' | 'subjects' | 'now'>;

export const tokenExchangeGrant: GrantHandler<TokenExchangeGrantDeps> = {
  grantType: TOKEN_EXCHANGE_GRANT_TYPE,
  // RFC 8693 §2.1.
  allowedParams: [
    'subject_token',
    'subject_token_type',
    'actor_token',
    'actor_token_type',
    'requested_token_type',
    'resource',
    'audience',
    'scope',
  ],
  repeatableParams: ['resource', 'audience'],

  async handle(params: Params, client: Client, context: TokenExchangeGrantDeps): Promise<TokenResponse> {
    const now = context.now();
    // RFC 8693 §2.1: requested_token_type is optional; Gatehouse issues access tokens (JWTs).
    const requestedType = params.get('requested_token_type');
    if (requestedType !== undefined && !ACCEPTED_TOKEN_TYPES.includes(requestedType)) {
      throw new InvalidRequest(
        `requested_token_type ${requestedType} is not supported; Gatehouse issues ${ACCESS_TOKEN_TYPE} (RFC 8693 §2.1)`,
      );
    }
    const subject = await presentedToken(params, 'subject_token', context, now);
    if (subject.userId === null) {
      throw new InvalidRequest(
        'subject_token was issued to a client acting for itself, not for a user; ask for a token for that resource with client_credentials instead (RFC 8693 §2.2.2: unacceptable by policy)',
      );
    }
    const actorSub = params.has('actor_token')
      ? await actorSubject(await presentedToken(params, 'actor_token', context, now), context)
      : client.clientId;
    if (!params.has('actor_token') && params.has('actor_token_type')) {
      throw new InvalidRequest('actor_token_type must not be sent without actor_token (RFC 8693 §2.1)');
    }
    const act = actorChain(actorSub, subject.act);
    const audience = await exchangeTargets(params, client, context);
    const scope = exchangedScope(parseScope(params.get('scope')), subject.scope, parseScope(client.scope));
    const tokens = await issueTokens(
      {
        client,
        userId: subject.userId,
        scope,
        audience,
        grantId: subject.grantId,
        flowId: subject.flowId,
        authTime: null,
        nonce: null,
        sid: null,
        refreshToken: null,
        grantType: TOKEN_EXCHANGE_GRANT_TYPE,
        act,
      },
      context,
      now,
    );
    // RFC 8693 §2.2.1: issued_token_type is required; scope is returned (always, as Gatehouse's other grants do).
    return { ...tokens, issued_token_type: ACCESS_TOKEN_TYPE };
  },
};

/**
 * RFC 8693 §2.1 `subject_token` / `actor_token` with its `_type`: both required (the type only
 * when the token is sent); an access token Gatehouse issued, active, not revoked, its grant not
 * revoked. §2.2.2: a token that is invalid "for any reason" is `invalid_request`.
 */
async function presentedToken(
  params: Params,
  name: 'subject_token' | 'actor_token',
  context: TokenExchangeGrantDeps,
  now: number,
): Promise<AccessTokenRecord> {
  const token = params.get(name);
  if (token === undefined || token === '') throw new InvalidRequest(`${name} is required`);
  const type = params.get(`${name}_type`);
  if (type === undefined) throw new InvalidRequest(`${name}_type is required with ${name} (RFC 8693 §2.1)`);
  if (!ACCEPTED_TOKEN_TYPES.includes(type)) {
    throw new InvalidRequest(
      `${name}_type ${type} is not supported; Gatehouse exchanges its own access tokens (${ACCESS_TOKEN_TYPE})`,
    );
  }
  const found = await findAccessToken(token, context);
  if (found?.kind !== 'access_token' || !isActive(found, now)) {
    throw new InvalidRequest(`${name} is not an active access token issued by this server (RFC 8693 §2.2.2)`);
  }
  return found.record;
}

/** The actor a valid actor_token names: its `sub` (a user as its client sees them, or a client). */
async function actorSubject(actor: AccessTokenRecord, context: TokenExchangeGrantDeps): Promise<string> {
  const sub = await subjectOfToken(actor, undefined, context);
  if (sub === undefined) throw new InvalidRequest('actor_token belongs to a client that no longer exists');
  return sub;
}

/** RFC 8693 §4.1: the new actor, with the subject token's actors nested inside (the least recent the deepest). */
function actorChain(sub: string, previous: Actor | undefined): Actor {
  const act: Actor = previous === undefined ? { sub } : { sub, act: previous };
  let depth = 0;
  for (let link: Actor | undefined = act; link !== undefined; link = link.act) depth++;
  if (depth > MAX_ACTOR_DEPTH) {
    throw new InvalidRequest(
      `subject_token is already the result of ${depth - 1} exchanges; Gatehouse allows a chain of at most ${MAX_ACTOR_DEPTH} actors`,
    );
  }
  return act;
}

/**
 * RFC 8693 §2.1 `resource` (absolute URIs, RFC 8707) and `audience` (logical names; Gatehouse
 * knows its resources by their identifiers, so an audience must be one): at least one, each a
 * registered resource this client may exchange for. §2.2.2: otherwise `invalid_target`.
 */
async function exchangeTargets(params: Params, client: Client, context: TokenExchangeGrantDeps): Promise<string[]> {
  const resources = await requestedResources(params, context.resources);
  const audiences = [...new Set(params.getAll('audience'))];
  for (const audience of audiences) {
    if (!(await context.resources.get(audience))) {
      throw new InvalidTarget(`audience ${audience} is not a registered resource`);
    }
  }
  const targets = [...new Set([...resources, ...audiences])];
  if (targets.length === 0) {
    throw new InvalidTarget(
      'name the resource the new token is for with resource or audience (RFC 8693 §2.1); Gatehouse has no default target for an exchange',
    );
  }
  const notAllowed = targets.filter((target) => !client.tokenExchangeResources.includes(target));
  if (notAllowed.length > 0) {
    throw new InvalidTarget(
      `this client may not exchange tokens for ${notAllowed.join(', ')} (its token_exchange_resources do not name it)`,
    );
  }
  return targets;
}

/**
 * The new token's scope can only narrow: what was asked (default: the subject token's scope),
 * within the subject token's scope and the client's registered scope. `invalid_scope` for more.
 */
function exchangedScope(requested: string[], subjectScope: string[], registered: string[]): string[] {
  if (requested.length > 0) {
    const beyondSubject = requested.filter((scope) => !subjectScope.includes(scope));
    if (beyondSubject.length > 0)
      throw new InvalidScope(`scope ${beyondSubject.join(' ')} is not in the subject token's scope`);
    const beyondClient = requested.filter((scope) => !registered.includes(scope));
    if (beyondClient.length > 0)
      throw new InvalidScope(`scope ${beyondClient.join(' ')} is not allowed for this client`);
    return requested;
  }
  const scope = subjectScope.filter((item) => registered.includes(item));
  if (scope.length === 0) {
    throw new InvalidScope("none of the subject token's scope is allowed for this client; register its scope");
  }
  return scope;
}
