/**
 * An MCP server protected by Gatehouse: the official MCP TypeScript SDK's Streamable HTTP
 * transport at `/mcp`, behind `gatehouse-resource`. One tool, `whoami`, answers with the access
 * token's subject, client and scopes.
 *
 * What an MCP client sees (MCP authorization, RFC 9728): a request without a token gets
 * `401 WWW-Authenticate: Bearer resource_metadata=".../.well-known/oauth-protected-resource/mcp"`;
 * that metadata names Gatehouse as the authorization server; the client signs the user in there
 * (code flow with PKCE and the `resource` of this server, RFC 8707) and calls again with the token.
 *
 * Run (docs/guides/mcp.md):
 *   GATEHOUSE_ISSUER=http://localhost:9001 PORT=3001 npx tsx examples/mcp-server/server.ts
 * test/mcp/mcp-end-to-end.test.ts runs it against a live Gatehouse with the SDK's own OAuth client.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  createVerifier,
  protectExpress,
  serveProtectedResourceMetadata,
  type ProtectedIncomingMessage,
} from 'gatehouse-resource';

/** The scope every MCP request needs (register it with the resource in Gatehouse). */
export const MCP_SCOPE = 'mcp:tools';

export interface McpServerOptions {
  /** Gatehouse's issuer identifier. */
  issuer: string;
  /** Default 3001; 0 picks a free port. */
  port?: number;
  host?: string;
  /** The public origin of this server when behind a proxy (default http://host:port). */
  origin?: string;
}

export interface RunningMcpServer {
  /** The MCP endpoint, also the resource identifier tokens must be issued for (RFC 8707). */
  url: string;
  close(): Promise<void>;
}

/** One MCP server per request: the stateless mode of the Streamable HTTP transport. */
function mcpServerFor(): McpServer {
  const server = new McpServer({ name: 'gatehouse-example', version: '1.0.0' });
  server.registerTool(
    'whoami',
    { description: 'Who the access token was issued to: its subject, client and scopes.' },
    async (extra) => {
      const auth = extra.authInfo;
      const who = { sub: auth?.extra?.['sub'], client_id: auth?.clientId, scopes: auth?.scopes ?? [] };
      return { content: [{ type: 'text', text: JSON.stringify(who) }], structuredContent: who };
    },
  );
  return server;
}

export async function startMcpServer(options: McpServerOptions): Promise<RunningMcpServer> {
  const host = options.host ?? '127.0.0.1';
  let handle: (req: ProtectedIncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const http = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => http.listen(options.port ?? 3001, host, resolve));
  const origin = options.origin ?? `http://${host}:${(http.address() as AddressInfo).port}`;
  const url = `${origin}/mcp`;

  // The resource is the MCP endpoint itself; its metadata is at /.well-known/oauth-protected-resource/mcp.
  const verifier = createVerifier({
    issuer: options.issuer,
    audience: url,
    scopesSupported: [MCP_SCOPE],
    resourceName: 'Gatehouse example MCP server',
  });
  const metadata = serveProtectedResourceMetadata(verifier);
  const requireToken = protectExpress(verifier, [MCP_SCOPE]);

  handle = (req, res) => {
    metadata(req, res, () => {
      if ((req.url ?? '').split('?')[0] !== '/mcp') {
        res.writeHead(404).end();
        return;
      }
      requireToken(req, res, (error) => {
        if (error) {
          // The authorization server is unreachable (AuthorizationServerUnavailableError).
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
          return;
        }
        void serveMcp(req, res);
      });
    });
  };

  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** Hands a verified request to the SDK, with the token's claims as the SDK's AuthInfo (tools see it as `extra.authInfo`). */
async function serveMcp(req: ProtectedIncomingMessage, res: ServerResponse): Promise<void> {
  const claims = req.accessToken!;
  const token = (req.headers.authorization ?? '').replace(/^\S+\s+/, '');
  (req as IncomingMessage & { auth?: unknown }).auth = {
    token,
    clientId: claims.client_id,
    scopes: (claims.scope ?? '').split(' ').filter(Boolean),
    expiresAt: claims.exp,
    extra: { sub: claims.sub },
  };
  const server = mcpServerFor();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const running = await startMcpServer({
    issuer: process.env['GATEHOUSE_ISSUER'] ?? 'http://localhost:9001',
    port: Number(process.env['PORT'] ?? 3001),
    host: process.env['HOST'] ?? 'localhost',
  });
  console.log(
    `MCP server at ${running.url}, protected by ${process.env['GATEHOUSE_ISSUER'] ?? 'http://localhost:9001'}`,
  );
}
