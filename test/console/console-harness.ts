/**
 * What the console tests share: a server with an administrator (alice) and a user without the
 * role (bob), and a browser-like agent signed in to the console through Gatehouse's own
 * authorization code flow (the console's built-in client).
 */
import assert from 'node:assert/strict';
import type { RunningGatehouse } from '../../src/server.js';
import { BOB } from '../admin/admin-harness.js';
import { ALICE, CONFIDENTIAL_CLIENT, startTestServer, type TestServerOptions } from '../helpers/server.js';
import { UserAgent, decodeEntities, hiddenInput, isLoginPage, type PageResponse } from '../helpers/user-agent.js';

export { ALICE, BOB };

export async function startConsoleServer(
  databaseUrl: string,
  options: TestServerOptions = {},
): Promise<RunningGatehouse> {
  const server = await startTestServer({
    databaseUrl,
    clients: [CONFIDENTIAL_CLIENT],
    users: [ALICE, BOB],
    ...options,
  });
  // What `gatehouse admin bootstrap --user alice` does.
  const alice = await server.context.store.users.getByUsername(ALICE.username);
  await server.context.store.users.upsert({ ...alice!, admin: true });
  return server;
}

/** Opens the console as `user`: the sign-in page of the authorization endpoint, then the console. */
export async function signInToConsole(
  server: RunningGatehouse,
  user: { username: string; password: string },
  path = '/console',
): Promise<{ agent: UserAgent; page: PageResponse }> {
  const agent = new UserAgent(server.url);
  const login = await agent.navigate(`${server.url}${path}`);
  assert.ok(isLoginPage(login), `the sign-in page, not: ${login.status} ${login.body.slice(0, 200)}`);
  const page = await agent.submit(login, { username: user.username, password: user.password });
  return { agent, page };
}

/** The console session's CSRF token on a page. */
export function csrfOf(page: PageResponse): string {
  const token = hiddenInput(page.body, 'csrf_token');
  assert.ok(token, `no CSRF token on ${page.url}`);
  return token;
}

/** The <h1> of a page, as text. */
export function headingOf(page: PageResponse): string {
  return decodeEntities(/<h1>([\s\S]*?)<\/h1>/.exec(page.body)?.[1]?.replace(/<[^>]+>/g, '') ?? '');
}

/** POSTs a console form (with the page's CSRF token) and follows the redirect. */
export async function post(agent: UserAgent, from: PageResponse, path: string, fields: Record<string, string> = {}) {
  const response = await agent.request(new URL(path, from.url).href, { form: { csrf_token: csrfOf(from), ...fields } });
  if (response.status === 303 && response.location !== null)
    return agent.navigate(new URL(response.location, response.url).href);
  return response;
}
