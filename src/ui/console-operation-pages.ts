/**
 * The web console's pages for protected resources (RFC 8707), signing keys, sessions and grants,
 * and the audit log (with its filters); see ./console-pages.ts for the others.
 */
import { html, safeUrl, type SafeHtml } from './html.js';
import {
  consolePage,
  dataTable,
  doneNotice,
  inputField,
  pager,
  postButton,
  problemAlert,
  textareaField,
  when,
  type ConsoleFrame,
} from './console-kit.js';
import { hiddenInputs } from './page-parts.js';
import type { MessageKey } from './i18n.js';
import type { KeyState } from '../core/keys/key-lifecycle.js';

export interface ResourceRow {
  resource: string;
  name: string | null;
  scopes: string[];
  introspectionClientIds: string[];
}

export function renderResourceList(
  c: ConsoleFrame,
  view: { items: ResourceRow[]; nextCursor: string | null; done?: SafeHtml | undefined },
): string {
  const { t } = c.f;
  const path = `${c.base}/resources`;
  const table = dataTable(
    t.t('console.resources_heading'),
    [t.text('console.col_resource'), t.text('console.col_name'), t.text('console.col_scope')],
    view.items.map((resource) => [
      html`<a href="${safeUrl(`${path}/${encodeURIComponent(resource.resource)}`)}"><code>${resource.resource}</code></a>`,
      resource.name ?? '–',
      resource.scopes.join(' ') || '–',
    ]),
    t.t('console.none_found'),
  );
  const body = html`<h1>${t.t('console.resources_heading')}</h1>
${doneNotice(view.done)}
<p><a class="btn btn-primary" href="${safeUrl(`${path}/new`)}">${t.t('console.resources_new')}</a></p>
${table}
${pager(c, path, {}, view.nextCursor)}`;
  return consolePage(c, t.text('console.resources_heading'), body);
}

export function renderResourceForm(
  c: ConsoleFrame,
  view: {
    values: { resource: string; name: string; scopes: string; introspection: string };
    isNew: boolean;
    problem?: string | undefined;
    done?: SafeHtml | undefined;
  },
): string {
  const { t } = c.f;
  const path = `${c.base}/resources`;
  const self = `${path}/${encodeURIComponent(view.values.resource)}`;
  const title = view.isNew
    ? t.text('console.resources_new')
    : t.text('console.resources_edit', { resource: view.values.resource });
  const body = html`<p class="crumbs"><a href="${safeUrl(path)}">${t.t('console.nav_resources')}</a></p>
<h1>${title}</h1>
${doneNotice(view.done)}
${problemAlert(c, view.problem)}
<form method="post" action="${safeUrl(view.isNew ? path : self)}">${hiddenInputs({ csrf_token: c.csrfToken })}
${view.isNew ? inputField('resource', t.t('console.col_resource'), { type: 'url', value: view.values.resource, required: true, hint: t.t('console.resources_identifier_hint') }) : ''}
${inputField('name', t.t('console.col_name'), { value: view.values.name })}
${inputField('scopes', t.t('console.col_scope'), { value: view.values.scopes, hint: t.t('console.space_separated') })}
${textareaField('introspection_client_ids', t.t('console.resources_introspection'), view.values.introspection, t.t('console.one_per_line'))}
<button type="submit" class="btn btn-primary">${view.isNew ? t.t('console.create') : t.t('console.save')}</button></form>
${
  view.isNew
    ? ''
    : html`<section class="section" aria-labelledby="delete-heading"><h2 id="delete-heading">${t.t('console.delete_heading')}</h2>
<p><a class="btn btn-secondary" href="${safeUrl(`${self}/delete`)}">${t.t('console.resources_delete')}</a></p></section>`
}`;
  return consolePage(c, title, body);
}

/** src/core/keys/key-lifecycle.ts KeyState, in words. */
const KEY_STATES: Record<KeyState, MessageKey> = {
  pending: 'console.key_pending',
  active: 'console.key_active',
  previous: 'console.key_previous',
  retired: 'console.key_retired',
  expired: 'console.key_expired',
};

export interface KeyRow {
  kid: string;
  alg: string;
  state: KeyState;
  createdAt: number;
  activatesAt: number;
  retiredAt: number | null;
}

export function renderKeys(
  c: ConsoleFrame,
  view: {
    items: KeyRow[];
    nextCursor: string | null;
    algs: string[];
    problem?: string | undefined;
    done?: SafeHtml | undefined;
  },
): string {
  const { t } = c.f;
  const path = `${c.base}/keys`;
  const table = dataTable(
    t.t('console.keys_heading'),
    [
      t.text('console.col_kid'),
      t.text('console.col_alg'),
      t.text('console.col_state'),
      t.text('console.col_created'),
      t.text('console.keys_activates'),
      t.text('console.col_actions'),
    ],
    view.items.map((key) => [
      html`<code>${key.kid}</code>`,
      key.alg,
      t.t(KEY_STATES[key.state]),
      when(key.createdAt),
      when(key.activatesAt),
      key.state === 'retired' || key.state === 'expired'
        ? when(key.retiredAt)
        : postButton(c, `${path}/${encodeURIComponent(key.kid)}/retire`, t.t('console.keys_retire'), {
            ariaLabel: t.text('console.keys_retire_label', { kid: key.kid }),
          }),
    ]),
    t.t('console.none_found'),
  );
  const body = html`<h1>${t.t('console.keys_heading')}</h1>
${doneNotice(view.done)}
${problemAlert(c, view.problem)}
<p class="note">${t.t('console.keys_note')}</p>
<div class="row-actions">${view.algs.map((alg) => postButton(c, path, t.t('console.keys_rotate', { alg }), { fields: { alg }, primary: true }))}</div>
${table}
${pager(c, path, {}, view.nextCursor)}`;
  return consolePage(c, t.text('console.keys_heading'), body);
}

export interface SessionRow {
  sid: string;
  username: string;
  authTime: number;
  expiresAt: number;
}

export interface GrantRow {
  id: string;
  clientId: string;
  username: string | null;
  scope: string[];
  createdAt: number;
}

export function renderSessions(
  c: ConsoleFrame,
  view: {
    sessions: SessionRow[];
    sessionsNext: string | null;
    grants: GrantRow[];
    grantsNext: string | null;
    done?: SafeHtml | undefined;
  },
): string {
  const { t } = c.f;
  const path = `${c.base}/sessions`;
  const sessions = dataTable(
    t.t('console.sessions_heading'),
    [
      t.text('console.col_user'),
      t.text('console.sessions_signed_in'),
      t.text('console.sessions_expires'),
      t.text('console.col_actions'),
    ],
    view.sessions.map((session) => [
      session.username,
      when(session.authTime),
      when(session.expiresAt),
      postButton(c, `${path}/${encodeURIComponent(session.sid)}/revoke`, t.t('console.revoke'), {
        ariaLabel: t.text('console.sessions_revoke_label', { user: session.username, sid: session.sid }),
      }),
    ]),
    t.t('console.none_found'),
  );
  const grants = dataTable(
    t.t('console.grants_heading'),
    [
      t.text('console.col_client'),
      t.text('console.col_user'),
      t.text('console.col_scope'),
      t.text('console.col_created'),
      t.text('console.col_actions'),
    ],
    view.grants.map((grant) => [
      html`<code>${grant.clientId}</code>`,
      grant.username ?? '–',
      grant.scope.join(' ') || '–',
      when(grant.createdAt),
      postButton(c, `${c.base}/grants/${encodeURIComponent(grant.id)}/revoke`, t.t('console.revoke'), {
        ariaLabel: t.text('console.grants_revoke_label', { client: grant.clientId, grant: grant.id }),
      }),
    ]),
    t.t('console.none_found'),
  );
  const body = html`<h1>${t.t('console.nav_sessions')}</h1>
${doneNotice(view.done)}
<h2>${t.t('console.sessions_heading')}</h2>
<p class="note">${t.t('console.sessions_note')}</p>
${sessions}
${pager(c, path, {}, view.sessionsNext)}
<h2>${t.t('console.grants_heading')}</h2>
<p class="note">${t.t('console.grants_note')}</p>
${grants}
${view.grantsNext === null ? '' : html`<p class="pager"><a href="${safeUrl(`${path}?grants_cursor=${encodeURIComponent(view.grantsNext)}`)}" rel="next">${t.t('console.next_page')}</a></p>`}`;
  return consolePage(c, t.text('console.nav_sessions'), body);
}

export interface AuditRow {
  id: number;
  at: number;
  type: string;
  clientId: string | null;
  username: string | null;
  details: string;
}

export interface AuditFilters {
  type: string;
  client_id: string;
  user: string;
  since: string;
}

export function renderAudit(
  c: ConsoleFrame,
  view: { items: AuditRow[]; filters: AuditFilters; nextCursor: string | null; problem?: string | undefined },
): string {
  const { t } = c.f;
  const path = `${c.base}/audit`;
  const table = dataTable(
    t.t('console.audit_heading'),
    [
      t.text('console.col_time'),
      t.text('console.col_event'),
      t.text('console.col_client'),
      t.text('console.col_user'),
      t.text('console.audit_details'),
    ],
    view.items.map((event) => [
      when(event.at),
      html`<code class="nowrap">${event.type}</code>`,
      event.clientId ?? '–',
      event.username ?? '–',
      html`<code class="wrap">${event.details}</code>`,
    ]),
    t.t('console.none_found'),
  );
  const query = Object.fromEntries(Object.entries(view.filters).filter(([, value]) => value !== ''));
  const body = html`<h1>${t.t('console.audit_heading')}</h1>
${problemAlert(c, view.problem)}
<form method="get" action="${safeUrl(path)}" class="filters" aria-label="${t.text('console.audit_filters')}">
${inputField('type', t.t('console.audit_type'), { value: view.filters.type, hint: t.t('console.audit_type_hint') })}
${inputField('client_id', t.t('console.col_client'), { value: view.filters.client_id })}
${inputField('user', t.t('console.col_user'), { value: view.filters.user })}
${inputField('since', t.t('console.audit_since'), { type: 'datetime-local', value: view.filters.since, hint: t.t('console.audit_since_hint') })}
<button type="submit" class="btn btn-secondary">${t.t('console.audit_apply')}</button></form>
${table}
${pager(c, path, query, view.nextCursor)}`;
  return consolePage(c, t.text('console.audit_heading'), body);
}
