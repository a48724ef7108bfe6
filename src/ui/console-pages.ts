/**
 * The web console's pages (docs/operating.md, Console): the dashboard, clients and users.
 * Resources, keys, sessions and grants, and the audit log are in ./console-operation-pages.ts.
 * Each page gets plain view data from src/http/routes/console/ (which read it through the admin
 * API's core functions) and renders it with ./console-kit.ts.
 */
import { html, safeUrl, type SafeHtml } from './html.js';
import {
  checkboxField,
  consolePage,
  dataTable,
  doneNotice,
  inputField,
  pager,
  postButton,
  problemAlert,
  selectField,
  textareaField,
  when,
  type ConsoleFrame,
} from './console-kit.js';
import { hiddenInputs } from './page-parts.js';

export interface DashboardView {
  counts: { clients: number; users: number; resources: number; sessions: number };
  failures: Array<{
    at: number;
    type: string;
    clientId: string | null;
    username: string | null;
    flowId: string | null;
  }>;
  /** The flow inspector's page of a flow, when the inspector is on. */
  flowHref: ((flowId: string) => string) | null;
}

export function renderDashboard(c: ConsoleFrame, view: DashboardView): string {
  const { t } = c.f;
  const count = (n: number, label: SafeHtml, href: string) =>
    html`<li><a href="${safeUrl(href)}"><span class="n">${n}</span>${label}</a></li>`;
  const failures = dataTable(
    t.t('console.dashboard_failures'),
    [
      t.text('console.col_time'),
      t.text('console.col_event'),
      t.text('console.col_client'),
      t.text('console.col_user'),
      t.text('console.col_flow'),
    ],
    view.failures.map((failure) => [
      when(failure.at),
      html`<code class="nowrap">${failure.type}</code>`,
      failure.clientId ?? '–',
      failure.username ?? '–',
      failure.flowId === null
        ? '–'
        : view.flowHref === null
          ? html`<code>${failure.flowId}</code>`
          : html`<a href="${safeUrl(view.flowHref(failure.flowId))}">${t.t('console.dashboard_inspect')}<span class="visually-hidden"> ${failure.flowId}</span></a>`,
    ]),
    t.t('console.dashboard_no_failures'),
  );
  const body = html`<h1>${t.t('console.dashboard_heading')}</h1>
<ul class="counts" aria-label="${t.text('console.dashboard_counts')}">
${count(view.counts.clients, t.t('console.nav_clients'), `${c.base}/clients`)}
${count(view.counts.users, t.t('console.nav_users'), `${c.base}/users`)}
${count(view.counts.resources, t.t('console.nav_resources'), `${c.base}/resources`)}
${count(view.counts.sessions, t.t('console.dashboard_sessions'), `${c.base}/sessions`)}
</ul>
<h2>${t.t('console.dashboard_failures')}</h2>
${failures}
<p class="note"><a href="${safeUrl(`${c.base}/audit`)}">${t.t('console.dashboard_all_events')}</a></p>`;
  return consolePage(c, t.text('console.dashboard_heading'), body);
}

export interface ClientRow {
  client_id: string;
  client_name?: string | undefined;
  client_type: 'public' | 'confidential';
  redirect_uris: string[];
  grant_types: string[];
  scope: string;
  token_endpoint_auth_method: string;
}

function searchForm(c: ConsoleFrame, path: string, q: string, label: string): SafeHtml {
  return html`<form method="get" action="${safeUrl(path)}" class="filters" role="search">
${inputField('q', label, { type: 'search', value: q })}
<button type="submit" class="btn btn-secondary">${c.f.t.t('console.search')}</button></form>`;
}

export function renderClientList(
  c: ConsoleFrame,
  view: { items: ClientRow[]; q: string; nextCursor: string | null; done?: SafeHtml | undefined },
): string {
  const { t } = c.f;
  const path = `${c.base}/clients`;
  const table = dataTable(
    t.t('console.clients_heading'),
    [
      t.text('console.col_client_id'),
      t.text('console.col_name'),
      t.text('console.col_type'),
      t.text('console.col_grants'),
    ],
    view.items.map((client) => [
      html`<a href="${safeUrl(`${path}/${encodeURIComponent(client.client_id)}`)}"><code>${client.client_id}</code></a>`,
      client.client_name ?? '–',
      client.client_type === 'public' ? t.t('console.client_public') : t.t('console.client_confidential'),
      client.grant_types.join(', '),
    ]),
    t.t('console.none_found'),
  );
  const body = html`<h1>${t.t('console.clients_heading')}</h1>
${doneNotice(view.done)}
<p><a class="btn btn-primary" href="${safeUrl(`${path}/new`)}">${t.t('console.clients_new')}</a></p>
${searchForm(c, path, view.q, t.text('console.clients_search'))}
${table}
${pager(c, path, view.q !== '' ? { q: view.q } : {}, view.nextCursor)}`;
  return consolePage(c, t.text('console.clients_heading'), body);
}

export interface ClientFormValues {
  client_id: string;
  client_name: string;
  client_type: 'public' | 'confidential';
  redirect_uris: string;
  grant_types: string[];
  scope: string;
}

const GRANT_CHOICES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

function clientFields(c: ConsoleFrame, values: ClientFormValues, isNew: boolean): SafeHtml {
  const { t } = c.f;
  return html`${isNew ? inputField('client_id', t.t('console.col_client_id'), { value: values.client_id, hint: t.t('console.clients_id_hint') }) : ''}
${inputField('client_name', t.t('console.col_name'), { value: values.client_name })}
${
  isNew
    ? selectField(
        'client_type',
        t.t('console.col_type'),
        [
          { value: 'confidential', text: t.text('console.client_confidential') },
          { value: 'public', text: t.text('console.client_public') },
        ],
        values.client_type,
      )
    : ''
}
${textareaField('redirect_uris', t.t('console.clients_redirect_uris'), values.redirect_uris, t.t('console.one_per_line'))}
<fieldset class="field"><legend>${t.t('console.col_grants')}</legend>
${GRANT_CHOICES.map((grant) => checkboxField(`grant_${grant}`, grant, values.grant_types.includes(grant)))}</fieldset>
${inputField('scope', t.t('console.col_scope'), { value: values.scope, hint: t.t('console.space_separated') })}`;
}

export function renderClientForm(
  c: ConsoleFrame,
  view: { values: ClientFormValues; isNew: boolean; problem?: string | undefined; done?: SafeHtml | undefined },
): string {
  const { t } = c.f;
  const path = `${c.base}/clients`;
  const id = view.values.client_id;
  const self = `${path}/${encodeURIComponent(id)}`;
  const title = view.isNew ? t.text('console.clients_new') : t.text('console.clients_edit', { client: id });
  const form = html`<form method="post" action="${safeUrl(view.isNew ? path : self)}">${hiddenInputs({ csrf_token: c.csrfToken })}
${clientFields(c, view.values, view.isNew)}
<button type="submit" class="btn btn-primary">${view.isNew ? t.t('console.create') : t.t('console.save')}</button></form>`;
  const more = view.isNew
    ? ''
    : html`<section class="section" aria-labelledby="secret-heading"><h2 id="secret-heading">${t.t('console.clients_secret_heading')}</h2>
${
  view.values.client_type === 'confidential'
    ? html`<p class="note">${t.t('console.clients_secret_note')}</p>${postButton(c, `${self}/secret`, t.t('console.clients_rotate'))}`
    : html`<p class="note">${t.t('console.clients_no_secret')}</p>`
}</section>
<section class="section" aria-labelledby="delete-heading"><h2 id="delete-heading">${t.t('console.delete_heading')}</h2>
<p><a class="btn btn-secondary" href="${safeUrl(`${self}/delete`)}">${t.t('console.clients_delete')}</a></p></section>`;
  const body = html`<p class="crumbs"><a href="${safeUrl(path)}">${t.t('console.nav_clients')}</a></p>
<h1>${title}</h1>
${doneNotice(view.done)}
${problemAlert(c, view.problem)}
${form}
${more}`;
  return consolePage(c, title, body);
}

/** The client's secret, shown this once (RFC 7591 §3.2.1; Gatehouse keeps a hash). */
export function renderClientSecret(
  c: ConsoleFrame,
  view: { clientId: string; secret: string; created: boolean },
): string {
  const { t } = c.f;
  const self = `${c.base}/clients/${encodeURIComponent(view.clientId)}`;
  const title = view.created ? t.text('console.clients_created') : t.text('console.clients_rotated');
  const body = html`<h1>${title}</h1>
<p class="notice" role="status">${t.t('console.secret_once')}</p>
<dl class="details"><dt>client_id</dt><dd>${view.clientId}</dd><dt>client_secret</dt><dd id="client-secret">${view.secret}</dd></dl>
<p class="actions-row"><a class="btn btn-primary" href="${safeUrl(self)}">${t.t('console.clients_continue')}</a></p>`;
  return consolePage(c, title, body);
}

/** Asking before something is deleted (a confirmation page, no script). */
export function renderConfirmDelete(
  c: ConsoleFrame,
  view: { what: string; action: string; back: string; problem?: string | undefined },
): string {
  const { t } = c.f;
  const title = t.text('console.delete_confirm_title', { what: view.what });
  const body = html`<h1>${title}</h1>
${problemAlert(c, view.problem)}
<p>${t.t('console.delete_confirm_text', { what: html`<strong>${view.what}</strong>` })}</p>
<div class="row-actions"><form method="post" action="${safeUrl(view.action)}">${hiddenInputs({ csrf_token: c.csrfToken })}<button type="submit" class="btn btn-primary">${t.t('console.delete_confirm')}</button></form>
<a class="btn btn-secondary" href="${safeUrl(view.back)}">${t.t('console.cancel')}</a></div>`;
  return consolePage(c, title, body);
}

export interface UserRow {
  id: string;
  username: string;
  name: string | null;
  email: string | null;
  admin: boolean;
  disabled: boolean;
  createdAt: number;
}

function userState(c: ConsoleFrame, user: UserRow): SafeHtml {
  const { t } = c.f;
  return html`${user.disabled ? t.t('console.users_disabled') : t.t('console.users_active')}${user.admin ? html` <span class="tag">${t.t('console.users_admin')}</span>` : ''}`;
}

export function renderUserList(
  c: ConsoleFrame,
  view: { items: UserRow[]; q: string; nextCursor: string | null; done?: SafeHtml | undefined },
): string {
  const { t } = c.f;
  const path = `${c.base}/users`;
  const table = dataTable(
    t.t('console.users_heading'),
    [
      t.text('console.col_username'),
      t.text('console.col_name'),
      t.text('console.col_email'),
      t.text('console.col_state'),
    ],
    view.items.map((user) => [
      html`<a href="${safeUrl(`${path}/${encodeURIComponent(user.id)}`)}">${user.username}</a>`,
      user.name ?? '–',
      user.email ?? '–',
      userState(c, user),
    ]),
    t.t('console.none_found'),
  );
  const body = html`<h1>${t.t('console.users_heading')}</h1>
${doneNotice(view.done)}
<p><a class="btn btn-primary" href="${safeUrl(`${path}/new`)}">${t.t('console.users_new')}</a></p>
${searchForm(c, path, view.q, t.text('console.users_search'))}
${table}
${pager(c, path, view.q !== '' ? { q: view.q } : {}, view.nextCursor)}`;
  return consolePage(c, t.text('console.users_heading'), body);
}

export function renderUserNew(
  c: ConsoleFrame,
  view: { values: { username: string; name: string; email: string; admin: boolean }; problem?: string | undefined },
): string {
  const { t } = c.f;
  const path = `${c.base}/users`;
  const title = t.text('console.users_new');
  const body = html`<p class="crumbs"><a href="${safeUrl(path)}">${t.t('console.nav_users')}</a></p>
<h1>${title}</h1>
${problemAlert(c, view.problem)}
<form method="post" action="${safeUrl(path)}">${hiddenInputs({ csrf_token: c.csrfToken })}
${inputField('username', t.t('console.col_username'), { value: view.values.username, required: true })}
${inputField('password', t.t('console.users_password'), { type: 'password', required: true, autocomplete: 'new-password' })}
${inputField('name', t.t('console.col_name'), { value: view.values.name })}
${inputField('email', t.t('console.col_email'), { type: 'email', value: view.values.email })}
${checkboxField('admin', t.t('console.users_admin_role'), view.values.admin)}
<button type="submit" class="btn btn-primary">${t.t('console.create')}</button></form>`;
  return consolePage(c, title, body);
}

export function renderUserDetail(
  c: ConsoleFrame,
  view: { user: UserRow; self: boolean; problem?: string | undefined; done?: SafeHtml | undefined },
): string {
  const { t } = c.f;
  const { user } = view;
  const self = `${c.base}/users/${encodeURIComponent(user.id)}`;
  const body = html`<p class="crumbs"><a href="${safeUrl(`${c.base}/users`)}">${t.t('console.nav_users')}</a></p>
<h1>${user.username}</h1>
${doneNotice(view.done)}
${problemAlert(c, view.problem)}
<dl class="facts"><dt>${t.t('console.col_name')}</dt><dd>${user.name ?? '–'}</dd><dt>${t.t('console.col_email')}</dt><dd>${user.email ?? '–'}</dd>
<dt>${t.t('console.col_state')}</dt><dd>${userState(c, user)}</dd><dt>${t.t('console.col_created')}</dt><dd>${when(user.createdAt)}</dd><dt>id</dt><dd><code>${user.id}</code></dd></dl>
<section class="section" aria-labelledby="access-heading"><h2 id="access-heading">${t.t('console.users_access_heading')}</h2>
<div class="row-actions">${view.self ? '' : postButton(c, `${self}/disabled`, user.disabled ? t.t('console.users_enable') : t.t('console.users_disable'), { fields: { disabled: user.disabled ? '0' : '1' } })}
${view.self ? '' : postButton(c, `${self}/admin`, user.admin ? t.t('console.users_revoke_admin') : t.t('console.users_grant_admin'), { fields: { admin: user.admin ? '0' : '1' } })}</div>
<p class="note">${t.t('console.users_disable_note')}</p></section>
<section class="section" aria-labelledby="password-heading"><h2 id="password-heading">${t.t('console.users_reset_password')}</h2>
<form method="post" action="${safeUrl(`${self}/password`)}">${hiddenInputs({ csrf_token: c.csrfToken })}
<input type="text" name="username" value="${user.username}" autocomplete="username" aria-label="${t.text('console.col_username')}" hidden>
${inputField('password', t.t('console.users_new_password'), { type: 'password', required: true, autocomplete: 'new-password' })}
<button type="submit" class="btn btn-secondary">${t.t('console.users_reset_password')}</button></form></section>`;
  return consolePage(c, user.username, body);
}
