/**
 * What the admin API tests share: a server with an automation client (client credentials), a
 * client holding every family scope (for narrower tokens), a console client (authorization code,
 * for user tokens) and two users; tokens of each kind; and `AdminApi`, which sends requests and
 * validates every response it receives against the served OpenAPI 3.1 document (Ajv 2020).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ClientFixture, UserFixture } from '../../src/config/settings.js';
import { ADMIN_SCOPES, adminAudience } from '../../src/core/admin/admin-access.js';
import { s256Challenge } from '../../src/core/pkce.js';
import type { RunningGatehouse } from '../../src/server.js';
import { authorizeUrl, newVerifier, postToken } from '../helpers/code-flow.js';
import { ALICE, CONFIDENTIAL_CLIENT, startTestServer, type TestServerOptions } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

export const AUTOMATION: ClientFixture = {
  client_id: 'admin-automation',
  client_secret: 'admin-automation-secret-long-enough-0123',
  redirect_uris: [],
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'gatehouse:admin',
  require_pkce: true,
};

/** May get a token with any single admin scope: the wrong-scope cases. */
export const NARROW: ClientFixture = {
  ...AUTOMATION,
  client_id: 'admin-narrow',
  client_secret: 'admin-narrow-secret-that-is-long-enough-01',
  scope: ADMIN_SCOPES.filter((scope) => scope !== 'gatehouse:admin').join(' '),
};

/** What the future console is: a user signs in, the token carries the user. */
export const CONSOLE: ClientFixture = {
  client_id: 'admin-console',
  client_secret: 'admin-console-secret-that-is-long-enough-0',
  redirect_uris: ['http://127.0.0.1:9000/console'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'openid gatehouse:admin',
  require_pkce: true,
};

export const BOB: UserFixture = {
  username: 'bob',
  password: 'bob has a long enough password',
  email: 'bob@example.com',
};

export function startAdminServer(databaseUrl: string, options: TestServerOptions = {}): Promise<RunningGatehouse> {
  return startTestServer({
    databaseUrl,
    clients: [CONFIDENTIAL_CLIENT, AUTOMATION, NARROW, CONSOLE],
    users: [ALICE, BOB],
    ...options,
  });
}

/** A client credentials token (RFC 6749 §4.4) for the admin API (or `resource`; null: none, audience the issuer). */
export async function clientToken(
  server: RunningGatehouse,
  client: ClientFixture = AUTOMATION,
  scope: string = client.scope,
  resource: string | null = adminAudience(server.context.settings.issuer),
): Promise<string> {
  const response = await postToken(
    server,
    { grant_type: 'client_credentials', scope, ...(resource !== null ? { resource } : {}) },
    { basic: { id: client.client_id, secret: client.client_secret! } },
  );
  assert.equal(response.status, 200, response.text);
  return response.body['access_token'] as string;
}

/** A user's token for the admin API through the console client (authorization code with PKCE, RFC 8707 resource). */
export async function userToken(server: RunningGatehouse, user: UserFixture): Promise<string> {
  const verifier = newVerifier();
  const state = randomBytes(8).toString('hex');
  const resource = adminAudience(server.context.settings.issuer);
  const url = authorizeUrl(server, {
    response_type: 'code',
    client_id: CONSOLE.client_id,
    redirect_uri: CONSOLE.redirect_uris[0],
    scope: 'openid gatehouse:admin',
    state,
    resource,
    code_challenge: s256Challenge(verifier),
    code_challenge_method: 'S256',
  });
  const final = await new UserAgent(server.url).authorize(url, user);
  assert.equal(final.status, 303, final.body.slice(0, 300));
  const code = new URL(final.location!).searchParams.get('code')!;
  const response = await postToken(
    server,
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: CONSOLE.redirect_uris[0],
      code_verifier: verifier,
      resource,
    },
    { basic: { id: CONSOLE.client_id, secret: CONSOLE.client_secret! } },
  );
  assert.equal(response.status, 200, response.text);
  return response.body['access_token'] as string;
}

export interface AdminResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: the tests read response bodies field by field, after the schema check
  body: any;
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
  >;
}

/** The OpenAPI path template (`/admin/v1/clients/{client_id}`) that matches a concrete path. */
function templateFor(document: OpenApiDocument, path: string): string | undefined {
  const segments = path.split('/');
  return Object.keys(document.paths).find((template) => {
    const parts = template.split('/');
    return parts.length === segments.length && parts.every((part, i) => part.startsWith('{') || part === segments[i]);
  });
}

/**
 * Sends admin API requests and validates each response against the OpenAPI document the server
 * serves: the operation must be documented, and the body must match the schema of its status.
 */
export class AdminApi {
  private document: OpenApiDocument | undefined;
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly validators = new Map<object, ReturnType<Ajv2020['compile']>>();
  /** `METHOD template` of every response validated. */
  readonly seen = new Set<string>();

  constructor(
    readonly base: string,
    readonly prefix = '/admin/v1',
  ) {}

  async openApi(): Promise<OpenApiDocument> {
    if (this.document) return this.document;
    const response = await fetch(`${this.base}${this.prefix}/openapi.json`);
    assert.equal(response.status, 200);
    this.document = (await response.json()) as OpenApiDocument;
    return this.document;
  }

  async call(
    method: string,
    path: string,
    options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<AdminResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${this.base}${this.prefix}${path}`, {
      method,
      headers,
      ...(options.body !== undefined
        ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
        : {}),
    });
    const text = await response.text();
    const body = text === '' ? undefined : (JSON.parse(text) as unknown);
    await this.validate(method, `${this.prefix}${path.split('?')[0]}`, response, body);
    return { status: response.status, headers: response.headers, body };
  }

  private async validate(method: string, path: string, response: Response, body: unknown): Promise<void> {
    const document = await this.openApi();
    const template = templateFor(document, path);
    assert.ok(template, `${method} ${path} is not in the OpenAPI document`);
    const operation = document.paths[template]![method.toLowerCase()];
    assert.ok(operation, `${method} ${template} is not in the OpenAPI document`);
    this.seen.add(`${method} ${template}`);
    const status = String(response.status);
    const documented =
      operation.responses[status] ?? operation.responses[`${status[0]}XX`] ?? operation.responses['default'];
    assert.ok(documented, `${method} ${template}: status ${status} is not documented`);
    if (response.status === 204) {
      assert.equal(body, undefined, '204 has no body');
      return;
    }
    if (response.status >= 400) assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
    // The media type sent is the one documented for the status (application/json, or RFC 9457 problem+json).
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const schema = documented.content?.[mediaType]?.schema;
    assert.ok(schema, `${method} ${template} ${status}: no schema documented for ${mediaType}`);
    let validate = this.validators.get(schema);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.validators.set(schema, validate);
    }
    assert.ok(
      validate(body),
      `${method} ${template} ${status}: ${this.ajv.errorsText(validate.errors)} in ${JSON.stringify(body)}`,
    );
  }
}
