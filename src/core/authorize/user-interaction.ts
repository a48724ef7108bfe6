/**
 * The resource owner's part of an authorization: signing in and consenting (RFC 6749 §4.1.1:
 * "the authorization server authenticates the resource owner and obtains an authorization
 * decision"). The HTTP layer renders the pages; this module decides and records.
 *
 * Every interaction is bound to the browser that started it and every form carries the
 * interaction's CSRF token, so a page cannot be completed from another browser or site.
 */
import type { ProviderContext } from '../context.js';
import { AccessDenied, CsrfMismatch, InteractionNotFound } from '../errors.js';
import { safeEqual, sha256Base64Url } from '../secrets.js';
import type { Client, Interaction, Session, Store } from '../../store/store.js';
import type { DirectoryUser } from '../users/user-directory.js';
import { errorResponse, type AuthorizationResponse } from './authorization-response.js';
import { nextStep, targetOf } from './authorization-endpoint.js';
import { issueAuthorizationCode } from './issue-code.js';
import { interactionFinished } from '../limits/attempt-limits.js';
import { currentSession, type BrowserState } from '../browser/browser-session.js';
import { signIn, type SignInDeps } from '../browser/sign-in.js';

export interface LoadedInteraction {
  interaction: Interaction;
  client: Client;
}

export type InteractionView =
  /** `username`: what to pre-fill, from login_hint or else the user an id_token_hint names. */
  | ({ kind: 'login'; username: string | null } & LoadedInteraction)
  | ({ kind: 'consent'; user: DirectoryUser } & LoadedInteraction)
  /** `uiLocales`: the request's OIDC Core §3.1.2.1 ui_locales, for the form post page's language. */
  | { kind: 'respond'; response: AuthorizationResponse; uiLocales: readonly string[] };

/**
 * What answering the consent page uses: the interaction and its client, the browser's session,
 * the user's consent, and completing the interaction (the code it issues, the address's
 * interaction count it gives back).
 */
export type ConsentDeps = Pick<ProviderContext, 'settings' | 'clients' | 'subjects' | 'events' | 'now'> & {
  store: Pick<Store, 'interactions' | 'sessions' | 'consents' | 'codes' | 'rateLimits'>;
};

/**
 * What showing the interaction uses: as ConsentDeps, and the users (the one the consent page
 * names, and the one an id_token_hint names, whose username pre-fills the login form).
 */
export type ViewInteractionDeps = ConsentDeps & Pick<ProviderContext, 'users'>;

/**
 * What signing in uses: as ViewInteractionDeps (the user's password hash, the brute-force
 * limits' counters), the new session, and ending the previous user's session (EndSessionDeps).
 */
export type LoginDeps = ViewInteractionDeps & SignInDeps;

export async function loadInteraction(
  id: string,
  browser: BrowserState,
  context: Pick<ProviderContext, 'clients' | 'now'> & { store: Pick<Store, 'interactions'> },
): Promise<LoadedInteraction> {
  const interaction = await context.store.interactions.get(id, context.now());
  if (!interaction || browser.browserId === undefined) throw new InteractionNotFound();
  if (!safeEqual(interaction.browserBindingHash, sha256Base64Url(browser.browserId))) throw new InteractionNotFound();
  const client = await context.clients.get(interaction.clientId);
  if (!client) throw new InteractionNotFound();
  return { interaction, client };
}

function checkCsrf(interaction: Interaction, presented: string | undefined): void {
  if (presented === undefined || !safeEqual(interaction.csrfToken, presented)) throw new CsrfMismatch();
}

/**
 * What the browser sees at the interaction URL: the login page, the consent page, or the result.
 * `clientIp`: the browser's address, whose interaction count a finished interaction gives back.
 */
export async function viewInteraction(
  id: string,
  browser: BrowserState,
  context: ViewInteractionDeps,
  clientIp: string,
): Promise<InteractionView> {
  const loaded = await loadInteraction(id, browser, context);
  const session = await currentSession(browser.sessionId, context);
  const step = await nextStep(loaded.interaction.request, session, loaded.interaction.createdAt, context);
  if (step === 'login') return { kind: 'login', username: await usernameHint(loaded, context), ...loaded };
  const user = await context.users.findById(session!.userId);
  if (!user) return { kind: 'login', username: await usernameHint(loaded, context), ...loaded };
  if (step === 'consent') return { kind: 'consent', user, ...loaded };
  return {
    kind: 'respond',
    response: await complete(loaded.interaction, session!, context, clientIp),
    uiLocales: loaded.interaction.request.uiLocales,
  };
}

/**
 * OIDC Core §3.1.2.1: `login_hint` as sent, else the username of the id_token_hint's `sub`. A
 * pairwise `sub` (§8.1) cannot be turned back into a user by design, so it pre-fills nothing.
 */
async function usernameHint(
  { interaction, client }: LoadedInteraction,
  context: Pick<ProviderContext, 'users'>,
): Promise<string | null> {
  const { loginHint, idTokenHintSub } = interaction.request;
  if (loginHint !== null) return loginHint;
  if (idTokenHintSub === null || client.subjectType === 'pairwise') return null;
  return (await context.users.findById(idTokenHintSub))?.username ?? null;
}

export type LoginResult =
  /** Wrong username or password: the page is shown again with the username as typed. */
  | ({ kind: 'failed'; username: string | null } & LoadedInteraction)
  /** Too many attempts (src/core/limits/attempt-limits.ts): refused before the password was checked. */
  | ({ kind: 'limited'; retryAfterSeconds: number; username: string | null } & LoadedInteraction)
  /** `deviceCookie`: the new device cookie of this browser, bound to the user signed in. */
  | {
      kind: 'signed-in';
      sessionId: string;
      deviceCookie: string;
      next: { kind: 'consent' } | { kind: 'respond'; response: AuthorizationResponse; uiLocales: readonly string[] };
    };

/**
 * Signs the user in (src/core/browser/sign-in.ts: brute-force limits, password, session) on the
 * interaction's login page, then goes on to consent or straight to the response.
 */
export async function submitLogin(
  id: string,
  browser: BrowserState,
  form: { csrfToken?: string | undefined; username?: string | undefined; password?: string | undefined },
  context: LoginDeps,
  clientIp: string,
): Promise<LoginResult> {
  const loaded = await loadInteraction(id, browser, context);
  const { interaction } = loaded;
  checkCsrf(interaction, form.csrfToken);
  const result = await signIn(browser, form, interaction, context, clientIp);
  if (result.kind === 'failed') {
    // Kept for the login page the browser is sent back to (Post/Redirect/Get), never the password.
    const typed = form.username?.trim() ?? '';
    if (typed !== '') await context.store.interactions.noteTypedUsername(interaction.id, typed.slice(0, 256));
    return { kind: 'failed', username: form.username ?? null, ...loaded };
  }
  if (result.kind === 'limited') {
    return { kind: 'limited', retryAfterSeconds: result.retryAfterSeconds, username: form.username ?? null, ...loaded };
  }
  const { session, sessionId, deviceCookie } = result;
  const step = await nextStep(interaction.request, session, interaction.createdAt, context);
  if (step === 'complete')
    return {
      kind: 'signed-in',
      sessionId,
      deviceCookie,
      next: {
        kind: 'respond',
        response: await complete(interaction, session, context, clientIp),
        uiLocales: interaction.request.uiLocales,
      },
    };
  return { kind: 'signed-in', sessionId, deviceCookie, next: { kind: 'consent' } };
}

export type ConsentResult =
  | { kind: 'login' }
  | { kind: 'respond'; response: AuthorizationResponse; uiLocales: readonly string[] };

export async function submitConsent(
  id: string,
  browser: BrowserState,
  form: { csrfToken?: string | undefined; decision?: string | undefined },
  context: ConsentDeps,
  clientIp: string,
): Promise<ConsentResult> {
  const { interaction } = await loadInteraction(id, browser, context);
  checkCsrf(interaction, form.csrfToken);
  const session = await currentSession(browser.sessionId, context);
  if (!session || (await nextStep(interaction.request, session, interaction.createdAt, context)) === 'login') {
    return { kind: 'login' };
  }
  const { request, flowId } = interaction;
  if (form.decision === 'allow') {
    await context.store.consents.grant({
      userId: session.userId,
      clientId: request.clientId,
      scopes: request.scope,
      grantedAt: context.now(),
    });
    context.events.emit({
      type: 'consent.granted',
      flowId,
      userId: session.userId,
      clientId: request.clientId,
      scope: request.scope,
    });
    return {
      kind: 'respond',
      response: await complete(interaction, session, context, clientIp),
      uiLocales: request.uiLocales,
    };
  }
  if (!(await context.store.interactions.consume(interaction.id))) throw new InteractionNotFound();
  await interactionFinished(context, clientIp);
  context.events.emit({ type: 'consent.denied', flowId, userId: session.userId, clientId: request.clientId });
  // RFC 6749 §4.1.2.1: the resource owner denied the request.
  return {
    kind: 'respond',
    uiLocales: request.uiLocales,
    response: errorResponse(
      targetOf(request),
      new AccessDenied('the user denied the request'),
      context.settings.issuer,
    ),
  };
}

/**
 * Ends the interaction (exactly once, even if the form is submitted twice), gives back the
 * address's interaction count, and issues the code.
 */
async function complete(
  interaction: Interaction,
  session: Session,
  context: Pick<ProviderContext, 'settings' | 'events' | 'now'> & {
    store: Pick<Store, 'interactions' | 'rateLimits' | 'codes'>;
  },
  clientIp: string,
): Promise<AuthorizationResponse> {
  if (!(await context.store.interactions.consume(interaction.id))) throw new InteractionNotFound();
  await interactionFinished(context, clientIp);
  return issueAuthorizationCode(interaction.request, interaction.flowId, session, context);
}
