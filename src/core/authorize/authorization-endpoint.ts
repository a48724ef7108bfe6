/**
 * The authorization endpoint (front channel), RFC 6749 §3.1 and §4.1.1-4.1.2.
 *
 * A valid request either completes at once (the browser has a single sign-on session and the
 * user already consented to these scopes) or becomes an interaction: a stored, browser-bound
 * record of the request that the login and consent pages work on.
 */
import type { ProviderContext } from '../context.js';
import {
  ConsentRequired,
  LoginRequired,
  OAuthError,
  RedirectableError,
  UnsafeAuthorizationRequest,
} from '../errors.js';
import type { Params } from '../params.js';
import { randomToken, sha256Base64Url } from '../secrets.js';
import { isSubset } from '../scope.js';
import type { Consent, Session, Store, StoredAuthorizationRequest } from '../../store/store.js';
import { validateAuthorizationRequest } from './authorization-request.js';
import { usePushedRequest } from './pushed-request-uri.js';
import { useRequestObject } from './request-object.js';
import { errorResponse, type AuthorizationResponse } from './authorization-response.js';
import { issueAuthorizationCode } from './issue-code.js';
import { currentSessionWithConsent, type BrowserState, touchSession } from '../browser/browser-session.js';
import { isConsoleRequest } from '../console/console-client.js';
import { checkLiveInteractions, countInteraction } from '../limits/attempt-limits.js';

export type AuthorizationOutcome =
  | { kind: 'respond'; response: AuthorizationResponse }
  | { kind: 'interact'; interactionId: string; newBrowserId: string | null };

/**
 * What the authorization endpoint uses: validating the request, the browser's session and the
 * user's consent, the interaction it stores (bounded by the brute-force limits' counters), and
 * the code it issues when nothing is left for the user to do.
 */
export type AuthorizationEndpointDeps = Pick<
  ProviderContext,
  'settings' | 'keys' | 'clients' | 'clientKeys' | 'resources' | 'subjects' | 'events' | 'now'
> & {
  store: Pick<Store, 'sessions' | 'consents' | 'interactions' | 'codes' | 'rateLimits' | 'pushedRequests' | 'usedJtis'>;
};

/**
 * `clientIp` is the address of the browser: the interactions it starts and does not finish are
 * limited per address (src/core/limits/attempt-limits.ts), since each is a database row until it expires.
 */
export async function handleAuthorizationRequest(
  params: Params,
  browser: BrowserState,
  context: AuthorizationEndpointDeps,
  clientIp: string,
): Promise<AuthorizationOutcome> {
  const flowId = randomToken(12);
  let validated;
  try {
    // RFC 9126 §4: a pushed request is used once, at the start; its parameters replace the request's.
    const pushed = await usePushedRequest(params, context);
    // RFC 9101 §6.3: so do those of a signed request object.
    const signed = pushed === undefined ? await useRequestObject(params, context) : undefined;
    validated = await validateAuthorizationRequest(pushed ?? signed?.params ?? params, context, {
      pushed: pushed !== undefined,
      ...(pushed === undefined ? { signed: signed !== undefined } : {}),
      ...(signed?.refusal !== undefined ? { refusal: signed.refusal } : {}),
    });
  } catch (error) {
    if (error instanceof RedirectableError) {
      context.events.emit({
        type: 'authorization.refused',
        flowId,
        clientId: error.clientId,
        error: error.oauthError.error,
        description: error.oauthError.description,
        redirected: true,
      });
      return { kind: 'respond', response: errorResponse(error.target, error.oauthError, context.settings.issuer) };
    }
    throw error;
  }
  const { client, request } = validated;
  context.events.emit({
    type: 'authorization.accepted',
    flowId,
    clientId: client.clientId,
    scope: request.scope,
    responseMode: request.responseMode,
  });

  // The session and the user's consent to this client in one read (nextStep uses the consent).
  const signedIn = await currentSessionWithConsent(browser.sessionId, request.clientId, context);
  const session = signedIn?.session;
  const step = await nextStep(request, session, null, context, signedIn);
  if (step === 'complete') {
    // Single sign-on used the session: the account page's "last seen" (rarely a write, see touchSession).
    await touchSession(session!, context);
    return {
      kind: 'respond',
      response: await unlessClientDeleted(client.clientId, context, () =>
        issueAuthorizationCode(request, flowId, session!, context),
      ),
    };
  }
  if (request.prompt.includes('none')) {
    const error =
      step === 'consent'
        ? new ConsentRequired('the user has not consented to this scope')
        : new LoginRequired(
            session ? 'the user must sign in again (max_age or id_token_hint)' : 'the user is not signed in',
          );
    context.events.emit({
      type: 'authorization.refused',
      flowId,
      clientId: client.clientId,
      error: error.error,
      description: error.description,
      redirected: true,
    });
    return { kind: 'respond', response: errorResponse(targetOf(request), error, context.settings.issuer) };
  }

  // Anyone can start an interaction, and each one is stored until it expires: bounded in all
  // (settings.maxLiveInteractions) and per address (settings.limits.interactionIp).
  await checkLiveInteractions(context);
  await countInteraction(context, clientIp, flowId);
  const newBrowserId = browser.browserId === undefined ? randomToken(32) : null;
  const now = context.now();
  const interactionId = randomToken(24);
  await unlessClientDeleted(client.clientId, context, () =>
    context.store.interactions.create({
      id: interactionId,
      flowId,
      clientId: client.clientId,
      request,
      browserBindingHash: sha256Base64Url(browser.browserId ?? newBrowserId!),
      csrfToken: randomToken(32),
      createdAt: now,
      expiresAt: now + context.settings.interactionTtlSeconds * 1000,
    }),
  );
  return { kind: 'interact', interactionId, newBrowserId };
}

/**
 * Runs a write for `clientId`. A client deleted by another process may still be in this
 * instance's cache (client_cache_ttl_seconds); the write then fails on its foreign key. That is
 * the unknown-client error page (RFC 6749 §4.1.2.1: never a redirect), not a server error.
 */
async function unlessClientDeleted<T>(
  clientId: string,
  context: Pick<ProviderContext, 'clients'>,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof OAuthError) && (await context.clients.fresh(clientId)) === undefined) {
      throw new UnsafeAuthorizationRequest('Unknown application', 'No application is registered with this client_id.', [
        { label: 'client_id received', value: clientId },
      ]);
    }
    throw error;
  }
}

export function targetOf(request: StoredAuthorizationRequest) {
  return { redirectUri: request.redirectUri, responseMode: request.responseMode, state: request.state };
}

/** The `sub` the session's user has for this client (OIDC Core §8: public or pairwise). */
async function sessionSubject(
  clientId: string,
  session: Session,
  context: Pick<ProviderContext, 'clients' | 'subjects'>,
): Promise<string | null> {
  const client = await context.clients.get(clientId);
  return client ? context.subjects.of(client, session.userId) : null;
}

/** What deciding the next step uses: the client (for the `sub` it sees) and the user's consent. */
export type NextStepDeps = Pick<ProviderContext, 'clients' | 'subjects' | 'now'> & {
  store: Pick<Store, 'consents'>;
  settings: Pick<ProviderContext['settings'], 'issuer'>;
};

/**
 * What the resource owner still has to do for this request: sign in, consent, or nothing.
 * `since` is when the interaction started (null before there is one): a sign-in after it
 * satisfies every reason to sign in again (OIDC Core §3.1.2.1):
 * - `prompt=login` (and `select_account`, as there is one account per browser);
 * - `max_age`, when the session's last sign-in is older than that many seconds;
 * - `id_token_hint` naming another user than the session's. Whoever then signs in is the
 *   End-User of the response (the client compares `sub` with its hint).
 * `known` is the session's user's consent to the request's client when the caller has read it
 * already (currentSessionWithConsent); otherwise it is read here when needed.
 */
export async function nextStep(
  request: StoredAuthorizationRequest,
  session: Session | undefined,
  since: number | null,
  context: NextStepDeps,
  known?: { consent: Consent | undefined },
): Promise<'login' | 'consent' | 'complete'> {
  if (!session) return 'login';
  const signedInNow = since !== null && session.authTime >= since;
  if (!signedInNow) {
    const wantsFreshLogin = request.prompt.includes('login') || request.prompt.includes('select_account');
    if (wantsFreshLogin) return 'login';
    if (request.maxAge !== null && context.now() - session.authTime > request.maxAge * 1000) return 'login';
    if (
      request.idTokenHintSub !== null &&
      request.idTokenHintSub !== (await sessionSubject(request.clientId, session, context))
    )
      return 'login';
  }
  if (request.prompt.includes('consent')) return 'consent';
  // The console is this server's own page for its administrators (src/core/console/console-client.ts).
  if (isConsoleRequest(request, context.settings.issuer)) return 'complete';
  const consent =
    known !== undefined ? known.consent : await context.store.consents.get(session.userId, request.clientId);
  return consent && isSubset(request.scope, consent.scopes) ? 'complete' : 'consent';
}
