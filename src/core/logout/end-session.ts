/**
 * OpenID Connect RP-Initiated Logout 1.0: the end_session_endpoint.
 *
 * An RP sends the browser here (GET or form POST, §2) with `id_token_hint`, `client_id`,
 * `post_logout_redirect_uri`, `state`, `logout_hint` and `ui_locales`. Gatehouse then:
 *
 * - validates the request before anything else: the hint must be an ID token this server
 *   signed (expired ones are accepted, §2 / §4), its `aud` must contain `client_id` when both
 *   are given (§2), and `post_logout_redirect_uri` must exactly match one of the client's
 *   registered `post_logout_redirect_uris` (§3: "The OP MUST NOT perform post-logout
 *   redirection if the post_logout_redirect_uri value supplied does not exactly match"). A bad
 *   request gets an error page and never a redirect;
 * - signs the user out at once when the hint was issued in the browser's current session
 *   (same `sid`, or same `sub` for a hint without `sid`). Anything else could be a logout forged
 *   by another site (§6 "Security Considerations": "logout requests without a valid
 *   id_token_hint value are a potential means of denial of service"), so the End-User is asked
 *   to confirm on a page whose form is bound to this browser and carries a CSRF token;
 * - ends the session: deletes it and queues Back-Channel Logout 1.0 logout tokens for every
 *   client that was issued a code in it (see ./backchannel.ts), in one transaction;
 * - then redirects (303) to `post_logout_redirect_uri` with `state`, or shows the signed-out page.
 *
 * `ui_locales` (§2) picks the pages' `lang` as for the login page, among the languages offered
 * (setting `languages`, ../browser/page-language.ts). `logout_hint` (§2) is
 * compared with the signed-in user's username and subject: a hint naming someone else means
 * the request was not made for this session, so it needs confirmation.
 */
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import type { ProviderContext } from '../context.js';
import { CsrfMismatch, InvalidLogoutRequest } from '../errors.js';
import type { Params } from '../params.js';
import { randomToken, safeEqual, secretHmac, sha256Base64Url } from '../secrets.js';
import type { Client, Session, Store } from '../../store/store.js';
import type { DirectoryUser } from '../users/user-directory.js';
import { endSession, type EndSessionDeps } from './backchannel.js';
import { currentSession, type BrowserState } from '../browser/browser-session.js';
import { offeredLanguages, pageLanguage } from '../browser/page-language.js';

/** The claims of a verified `id_token_hint` that logout uses. */
export interface IdTokenHint {
  sub: string;
  aud: string[];
  sid: string | null;
}

/** A validated logout request. */
export interface LogoutRequest {
  client: Client | null;
  postLogoutRedirectUri: string | null;
  state: string | null;
  hint: IdTokenHint | null;
  logoutHint: string | null;
}

export type EndSessionOutcome =
  /** The session ended (or there was none): clear the session cookie, then redirect or show the signed-out page. */
  (
    | { kind: 'signed-out'; redirectTo: string | null }
    /** Ask the End-User: the page posts `fields` and `csrfToken` back to the confirmation endpoint. */
    | {
        kind: 'confirm';
        csrfToken: string;
        fields: Record<string, string>;
        user: DirectoryUser;
        client: Client | null;
        /** Where the confirmation will redirect to (for the page's CSP form-action). */
        postLogoutRedirectUri: string | null;
        /** A new browser-binding cookie value, when the browser had none. */
        newBrowserId: string | null;
      }
  ) & {
    /** The pages' language from `ui_locales`, when one is supported. */
    lang: string | undefined;
  };

/**
 * What the end_session_endpoint uses: validating the request (the key ring checks the hint, the
 * client's registration the redirect URI), the browser's session and its user, and ending it
 * (./backchannel.ts). The confirmation form needs no user.
 */
export type EndSessionEndpointDeps = EndSessionDeps &
  Pick<ProviderContext, 'users'> & { store: Pick<Store, 'sessions'> };

const PARAMS = [
  'id_token_hint',
  'client_id',
  'post_logout_redirect_uri',
  'state',
  'logout_hint',
  'ui_locales',
] as const;

/** §2: the RP's request, from the query (GET) or the form body (POST). */
export async function handleEndSessionRequest(
  params: Params,
  browser: BrowserState,
  context: EndSessionEndpointDeps,
): Promise<EndSessionOutcome> {
  for (const name of PARAMS) {
    if (params.isRepeated(name)) throw new InvalidLogoutRequest(`The parameter ${name} was sent more than once.`);
  }
  const lang = uiLanguage(params.get('ui_locales'), offeredLanguages(context.settings));
  const request = await validateLogoutRequest(
    {
      idTokenHint: params.get('id_token_hint'),
      clientId: params.get('client_id'),
      postLogoutRedirectUri: params.get('post_logout_redirect_uri'),
      state: params.get('state'),
      logoutHint: params.get('logout_hint'),
    },
    context,
  );

  const session = await currentSession(browser.sessionId, context);
  // Nobody is signed in here: there is nothing to end, and nothing to protect by asking.
  if (!session) return { kind: 'signed-out', redirectTo: postLogoutLocation(request), lang };
  const user = await context.users.findById(session.userId);
  if (!user) {
    await endSession(session, context, request.client?.clientId ?? null);
    return { kind: 'signed-out', redirectTo: postLogoutLocation(request), lang };
  }

  // With a hint there is always a client: the hint's audience (validateLogoutRequest).
  const hintSubject = request.client === null ? session.userId : context.subjects.of(request.client, session.userId);
  if (
    request.hint !== null &&
    hintMatchesSession(request.hint, session, hintSubject) &&
    logoutHintMatches(request.logoutHint, user)
  ) {
    await endSession(session, context, request.client?.clientId ?? null);
    return { kind: 'signed-out', redirectTo: postLogoutLocation(request), lang };
  }

  const newBrowserId = browser.browserId === undefined ? randomToken(32) : null;
  const fields: Record<string, string> = {};
  if (request.client !== null) fields['client_id'] = request.client.clientId;
  if (request.postLogoutRedirectUri !== null) fields['post_logout_redirect_uri'] = request.postLogoutRedirectUri;
  if (request.state !== null) fields['state'] = request.state;
  // Not covered by the CSRF token: only the language of the signed-out page depends on it.
  if (lang !== undefined) fields['ui_locales'] = lang;
  return {
    kind: 'confirm',
    csrfToken: confirmationToken(browser.browserId ?? newBrowserId!, fields, context.now(), context),
    fields,
    user,
    client: request.client,
    postLogoutRedirectUri: request.postLogoutRedirectUri,
    newBrowserId,
    lang,
  };
}

/**
 * The End-User confirmed on the page: the form's CSRF token must be the one made for this
 * browser and these fields, and not older than an interaction may be.
 */
export async function submitEndSessionConfirmation(
  form: Params,
  browser: BrowserState,
  context: EndSessionDeps & { store: Pick<Store, 'sessions'> },
): Promise<EndSessionOutcome> {
  const fields: Record<string, string> = {};
  for (const name of ['client_id', 'post_logout_redirect_uri', 'state'] as const) {
    const value = form.get(name);
    if (value !== undefined) fields[name] = value;
  }
  const presented = form.get('csrf_token');
  if (
    browser.browserId === undefined ||
    presented === undefined ||
    !checkConfirmationToken(presented, browser.browserId, fields, context)
  ) {
    throw new CsrfMismatch();
  }
  // Validated again: the client's registration may have changed since the page was shown.
  const request = await validateLogoutRequest(
    {
      clientId: fields['client_id'],
      postLogoutRedirectUri: fields['post_logout_redirect_uri'],
      state: fields['state'],
    },
    context,
  );
  const session = await currentSession(browser.sessionId, context);
  if (session) await endSession(session, context, request.client?.clientId ?? null);
  return {
    kind: 'signed-out',
    redirectTo: postLogoutLocation(request),
    lang: uiLanguage(form.get('ui_locales'), offeredLanguages(context.settings)),
  };
}

/** §2 `ui_locales`: space-separated BCP 47 tags, preferred first; only a hint, never an error. */
function uiLanguage(uiLocales: string | undefined, languages: readonly string[]): string | undefined {
  return pageLanguage(
    (uiLocales ?? '').split(' ').filter((tag) => /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(tag)),
    languages,
  );
}

interface RawLogoutRequest {
  idTokenHint?: string | undefined;
  clientId?: string | undefined;
  postLogoutRedirectUri?: string | undefined;
  state?: string | undefined;
  logoutHint?: string | undefined;
}

async function validateLogoutRequest(
  raw: RawLogoutRequest,
  context: Pick<ProviderContext, 'keys' | 'settings' | 'clients'>,
): Promise<LogoutRequest> {
  const hint = raw.idTokenHint === undefined ? null : await verifyIdTokenHint(raw.idTokenHint, context);

  // §2: client_id and the hint's aud must agree; without client_id the hint names the client.
  let clientId: string | undefined = raw.clientId;
  if (hint !== null) {
    if (clientId !== undefined && !hint.aud.includes(clientId)) {
      throw new InvalidLogoutRequest('The id_token_hint was not issued to the application named by client_id.', [
        { label: 'client_id', value: clientId },
      ]);
    }
    if (clientId === undefined) {
      if (hint.aud.length !== 1)
        throw new InvalidLogoutRequest('The id_token_hint has several audiences; the application must send client_id.');
      clientId = hint.aud[0];
    }
  }
  let client: Client | null = null;
  if (clientId !== undefined) {
    client = (await context.clients.get(clientId)) ?? null;
    if (client === null)
      throw new InvalidLogoutRequest('The application that asked to sign you out is not registered here.', [
        { label: 'client_id', value: clientId },
      ]);
  }

  const uri = raw.postLogoutRedirectUri ?? null;
  if (uri !== null) {
    if (client === null) {
      throw new InvalidLogoutRequest(
        'A post_logout_redirect_uri can only be used together with client_id or id_token_hint, which name the application it belongs to.',
        [{ label: 'post_logout_redirect_uri', value: uri }],
      );
    }
    // §3: exact string comparison with a registered value, nothing else.
    if (!client.postLogoutRedirectUris.includes(uri)) {
      throw new InvalidLogoutRequest(
        'The address to return to after signing out is not registered for this application.',
        [
          { label: 'client_id', value: client.clientId },
          { label: 'post_logout_redirect_uri', value: uri },
        ],
      );
    }
  }
  return { client, postLogoutRedirectUri: uri, state: raw.state ?? null, hint, logoutHint: raw.logoutHint ?? null };
}

/**
 * §2: "The OP MUST validate that it was the issuer of the ID Token" and SHOULD accept it after
 * its `exp` has passed, so the signature is checked against our published keys and `exp` is
 * not. An access token (typ at+jwt) or a logout token (typ logout+jwt) is not an ID token.
 */
async function verifyIdTokenHint(
  token: string,
  context: Pick<ProviderContext, 'keys' | 'settings'>,
): Promise<IdTokenHint> {
  const invalid = (why: string) => new InvalidLogoutRequest(`The id_token_hint is not valid: ${why}.`);
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(token).typ;
  } catch {
    throw invalid('it is not a JWT');
  }
  if (typ !== undefined && (typeof typ !== 'string' || typ.toLowerCase() !== 'jwt'))
    throw invalid('it is not an ID token');
  let payload: Record<string, unknown>;
  try {
    const { payload: bytes } = await compactVerify(token, createLocalJWKSet(context.keys.jwks()));
    payload = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    throw invalid('it was not signed by this server');
  }
  if (payload['iss'] !== context.settings.issuer) throw invalid('it was issued by another server');
  const aud = typeof payload['aud'] === 'string' ? [payload['aud']] : payload['aud'];
  if (!Array.isArray(aud) || aud.length === 0 || !aud.every((value): value is string => typeof value === 'string'))
    throw invalid('it has no audience');
  if (typeof payload['sub'] !== 'string') throw invalid('it has no subject');
  const sid = payload['sid'];
  return { sub: payload['sub'], aud, sid: typeof sid === 'string' ? sid : null };
}

/**
 * Whether the hint was issued in `session`: same sid when the hint has one, else the same user.
 * `subject`: the session user's `sub` as the hint's client sees it (OIDC Core §8).
 */
function hintMatchesSession(hint: IdTokenHint, session: Session, subject: string): boolean {
  if (hint.sub !== subject) return false;
  if (hint.sid === null) return true;
  return session.sid !== null && session.sid !== undefined && safeEqual(hint.sid, session.sid);
}

function logoutHintMatches(logoutHint: string | null, user: DirectoryUser): boolean {
  return logoutHint === null || logoutHint === user.username || logoutHint === user.id;
}

/** §3: the registered URI with `state` added to its query, or null for the signed-out page. */
function postLogoutLocation(request: LogoutRequest): string | null {
  if (request.postLogoutRedirectUri === null) return null;
  const url = new URL(request.postLogoutRedirectUri);
  if (request.state !== null) url.searchParams.append('state', request.state);
  return url.href;
}

// --- The confirmation form's CSRF token -------------------------------------------------------
//
// Stateless: `<issued-at seconds>.<HMAC>` over the browser-binding cookie's hash, the time and
// the form's fields, under a key derived from the instance secret. Only the browser holding the
// binding cookie can submit it (the cookie is SameSite=Lax, so another site's POST lacks it),
// the fields cannot be altered, and it expires like an interaction.

function confirmationMac(
  browserId: string,
  issuedAt: number,
  fields: Record<string, string>,
  context: Pick<ProviderContext, 'settings'>,
): string {
  const message = JSON.stringify([
    sha256Base64Url(browserId),
    issuedAt,
    fields['client_id'] ?? null,
    fields['post_logout_redirect_uri'] ?? null,
    fields['state'] ?? null,
  ]);
  return secretHmac(context.settings.secret, 'gatehouse logout confirmation v1', message);
}

function confirmationToken(
  browserId: string,
  fields: Record<string, string>,
  now: number,
  context: Pick<ProviderContext, 'settings'>,
): string {
  const issuedAt = Math.floor(now / 1000);
  return `${issuedAt}.${confirmationMac(browserId, issuedAt, fields, context)}`;
}

function checkConfirmationToken(
  token: string,
  browserId: string,
  fields: Record<string, string>,
  context: Pick<ProviderContext, 'settings' | 'now'>,
): boolean {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return false;
  const issuedAt = Number(match[1]);
  const age = Math.floor(context.now() / 1000) - issuedAt;
  if (age < -60 || age > context.settings.interactionTtlSeconds) return false;
  return safeEqual(match[2]!, confirmationMac(browserId, issuedAt, fields, context));
}
