/**
 * MCP end to end: Gatehouse (in-process), the example MCP server (examples/mcp-server, protected
 * through gatehouse-resource) and the MCP SDK's own OAuth client (`auth()` driven by
 * StreamableHTTPClientTransport with an OAuthClientProvider whose redirectToAuthorization signs
 * in and consents with HTTP requests). Each way a client can be known to Gatehouse ends in a
 * successful tool call, then a refresh: the provider's access token is spoiled, the MCP server
 * answers 401 invalid_token, and the SDK refreshes (RFC 6749 §6) and calls again.
 *
 * The ways are a table: a pre-registered client, a Client ID Metadata Document, and dynamic
 * registration (RFC 7591, `registration: { mode: "open" }`), where the SDK starts with no client
 * information and registers at the registration_endpoint it finds in the metadata.
 *
 * Run: node scripts/run-tests.mjs test/mcp
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { DEFAULT_SETTINGS, type ClientFixture, type GatehouseSettings } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { MCP_SCOPE, startMcpServer, type RunningMcpServer } from '../../examples/mcp-server/server.js';
import { DocumentServer } from '../helpers/document-server.js';
import { freePort } from '../helpers/installed-server.js';
import { TEST_DOCUMENT_SETTINGS } from '../helpers/metadata-documents.js';
import { postgresSkipMessage } from '../helpers/postgres.js';
import { ALICE, STORE_TARGETS, startTestServer } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

const REDIRECT_URI = 'http://127.0.0.1:9000/mcp-callback';

/** What an MCP client declares about itself (its registration, or its metadata document). */
const CLIENT_METADATA: OAuthClientMetadata = {
  client_name: 'Example MCP client',
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  scope: MCP_SCOPE,
};

const PREREGISTERED: ClientFixture = {
  client_id: 'mcp-client',
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  scope: MCP_SCOPE,
  require_pkce: true,
};

interface Setting {
  gatehouse: RunningGatehouse;
  documents: DocumentServer;
}

/** How the MCP client starts out: registered credentials, a metadata document URL, or nothing (it registers). */
interface Start {
  clientInformation?: OAuthClientInformationMixed;
  clientMetadataUrl?: string;
}

/** One way an MCP client is known to Gatehouse: what the server needs, and how the client starts. */
interface Way {
  name: string;
  clients?: ClientFixture[];
  /** Settings the way needs; `mcpUrl` is the MCP server's resource identifier. */
  settings?: (mcpUrl: string) => Partial<GatehouseSettings>;
  start(setting: Setting): Start;
  /** The client_id the access token must name. */
  expectedClientId(start: Start, provider: ScriptedProvider): string;
}

const WAYS: Way[] = [
  {
    name: '(a) a pre-registered client',
    clients: [PREREGISTERED],
    start: () => ({ clientInformation: { client_id: PREREGISTERED.client_id } }),
    expectedClientId: () => PREREGISTERED.client_id,
  },
  {
    name: '(b) a Client ID Metadata Document served over https (draft-ietf-oauth-client-id-metadata-document)',
    settings: () => ({ clientMetadataDocuments: TEST_DOCUMENT_SETTINGS }),
    start: ({ documents }) => {
      const url = documents.url('/mcp-client.json');
      documents.serve('/mcp-client.json', { body: { ...CLIENT_METADATA, client_id: url } });
      return { clientMetadataUrl: url };
    },
    expectedClientId: (start) => start.clientMetadataUrl!,
  },
  {
    name: '(c) dynamic client registration (RFC 7591 §3, open mode)',
    // Open registration may ask only for what the operator opened: the MCP scope and server.
    settings: (mcpUrl) => ({
      registration: {
        ...DEFAULT_SETTINGS.registration,
        mode: 'open',
        allowedScopes: [...DEFAULT_SETTINGS.registration.allowedScopes, MCP_SCOPE],
        allowedResources: [mcpUrl],
      },
    }),
    start: () => ({}),
    expectedClientId: (_start, provider) => {
      const registered = provider.clientInformation();
      assert.ok(registered?.client_id, 'the SDK registered and saved its client_id');
      return registered.client_id;
    },
  },
];

/**
 * The MCP SDK's OAuthClientProvider, with the browser's part scripted: redirectToAuthorization
 * signs ALICE in and consents with HTTP requests, and keeps the code for finishAuth.
 */
class ScriptedProvider implements OAuthClientProvider {
  readonly redirectUrl = REDIRECT_URI;
  readonly clientMetadata = CLIENT_METADATA;
  readonly clientMetadataUrl: string | undefined;
  authorizationCode: string | undefined;
  private information: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = '';

  constructor(
    private readonly gatehouse: RunningGatehouse,
    start: Start,
  ) {
    this.information = start.clientInformation;
    this.clientMetadataUrl = start.clientMetadataUrl;
  }

  clientInformation() {
    return this.information;
  }
  saveClientInformation(information: OAuthClientInformationMixed) {
    this.information = information;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }

  async redirectToAuthorization(authorizationUrl: URL) {
    const final = await new UserAgent(this.gatehouse.url).authorize(authorizationUrl.href, ALICE);
    assert.equal(
      final.status,
      303,
      `expected a redirect to the client, got ${final.status}: ${final.body.slice(0, 300)}`,
    );
    const callback = new URL(final.location!);
    assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
    this.authorizationCode = callback.searchParams.get('code') ?? undefined;
  }

  /** The access token stops working (as when it expires); the refresh token stays. */
  spoilAccessToken() {
    assert.ok(this.saved?.refresh_token, 'a refresh token was issued');
    this.saved = { ...this.saved, access_token: 'spoiled-access-token' };
  }
}

/** Calls `whoami` and returns what the MCP server saw in the access token. */
async function whoami(client: Client): Promise<{ sub: string; client_id: string; scopes: string[] }> {
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  assert.notEqual(result.isError, true, JSON.stringify(result));
  return result.structuredContent as { sub: string; client_id: string; scopes: string[] };
}

for (const target of STORE_TARGETS) {
  describe(`MCP authorization end to end with the SDK's OAuth client (${target.name})`, () => {
    let documents: DocumentServer;
    let gatehouse: RunningGatehouse | undefined;
    let mcp: RunningMcpServer | undefined;
    let databaseUrl: string | undefined;

    before(async () => {
      documents = await DocumentServer.start();
      databaseUrl = await target.url();
      if (databaseUrl === undefined) return;
      // The MCP server's port is chosen first: open registration is configured with its URL.
      const mcpPort = await freePort();
      const mcpUrl = `http://127.0.0.1:${mcpPort}/mcp`;
      gatehouse = await startTestServer({
        databaseUrl,
        clients: WAYS.flatMap((way) => way.clients ?? []),
        settings: Object.assign({}, ...WAYS.map((way) => way.settings?.(mcpUrl) ?? {})),
        outboundCa: documents.ca,
      });
      mcp = await startMcpServer({ issuer: gatehouse.url, port: mcpPort });
      assert.equal(mcp.url, mcpUrl);
      // RFC 8707: the MCP endpoint is a resource Gatehouse issues tokens for.
      await gatehouse.store.resources.upsert({
        identifier: mcp.url,
        name: 'Example MCP server',
        scopes: [MCP_SCOPE],
        introspectionClientIds: [],
        createdAt: Date.now(),
      });
    });
    after(async () => {
      await mcp?.close();
      await gatehouse?.close();
      if (databaseUrl !== undefined) await target.cleanup(databaseUrl);
      await documents.close();
    });

    for (const way of WAYS) {
      it(`MCP authorization, RFC 9728, RFC 8707, RFC 6749 §6: ${way.name}: sign-in, a tool call, and a refresh`, async (t: TestContext) => {
        if (!gatehouse || !mcp) return t.skip(postgresSkipMessage());
        const start = way.start({ gatehouse, documents });
        const provider = new ScriptedProvider(gatehouse, start);

        // The first connection meets the 401 challenge; the SDK discovers Gatehouse through the
        // resource metadata and sends the user to sign in (here: scripted), then stops.
        const first = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider });
        await assert.rejects(new Client({ name: 'test', version: '1.0.0' }).connect(first), UnauthorizedError);
        assert.ok(provider.authorizationCode, 'the sign-in returned a code');
        await first.finishAuth(provider.authorizationCode);

        const client = new Client({ name: 'test', version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider }));
        const alice = await gatehouse.store.users.getByUsername(ALICE.username);
        assert.deepEqual(await whoami(client), {
          sub: alice!.id,
          client_id: way.expectedClientId(start, provider),
          scopes: [MCP_SCOPE],
        });

        const before = provider.tokens()!;
        provider.spoilAccessToken();
        assert.equal((await whoami(client)).client_id, way.expectedClientId(start, provider));
        const after = provider.tokens()!;
        assert.notEqual(after.access_token, 'spoiled-access-token', 'a new access token');
        assert.notEqual(after.refresh_token, before.refresh_token, 'the refresh token was rotated');
        await client.close();
      });
    }
  });
}
