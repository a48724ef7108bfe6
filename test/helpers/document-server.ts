/**
 * An https server on 127.0.0.1 with a self-signed certificate (./tls-cert.ts) that serves what
 * each test says per path: Client ID Metadata Documents and their misbehaving variants
 * (redirects, oversized or slow bodies, wrong content types). It counts the requests per path
 * and tracks its open connections, so a test can check that a refused fetch left none hanging.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { selfSignedCertificate, type TestCertificate } from './tls-cert.js';

export interface DocumentReply {
  status?: number;
  headers?: Record<string, string>;
  /** A JSON value (sent as application/json unless `headers` say otherwise) or text. */
  body?: unknown;
  /** Send the headers and the first byte of the body, then nothing more (a slow body). */
  stall?: boolean;
}

export class DocumentServer {
  private readonly replies = new Map<string, DocumentReply | ((request: IncomingMessage) => DocumentReply)>();
  private readonly counts = new Map<string, number>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly certificate: TestCertificate,
  ) {}

  static async start(): Promise<DocumentServer> {
    const certificate = await selfSignedCertificate('gatehouse-documents-');
    const server = createServer({ cert: certificate.cert, key: certificate.key });
    const documents = new DocumentServer(server, certificate);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => documents.answer(request, response));
    server.on('secureConnection', (socket: Socket) => {
      documents.sockets.add(socket);
      socket.on('close', () => documents.sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return documents;
  }

  /** The CA a client must trust to reach this server. */
  get ca(): string {
    return this.certificate.cert;
  }

  url(path: string): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return `https://127.0.0.1:${address.port}${path}`;
  }

  serve(path: string, reply: DocumentReply | ((request: IncomingMessage) => DocumentReply)): string {
    this.replies.set(path, reply);
    return this.url(path);
  }

  /** How many requests `path` received. */
  requests(path: string): number {
    return this.counts.get(path) ?? 0;
  }

  /** Connections still open (a refused fetch must leave none). */
  get openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await this.certificate.remove();
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'https://localhost').pathname;
    this.counts.set(path, this.requests(path) + 1);
    const configured = this.replies.get(path);
    const reply = typeof configured === 'function' ? configured(request) : (configured ?? { status: 404, body: '' });
    const body =
      typeof reply.body === 'string' || reply.body === undefined ? (reply.body ?? '') : JSON.stringify(reply.body);
    const contentType = typeof reply.body === 'string' ? 'text/plain' : 'application/json';
    // Connection: close, so that a finished exchange leaves no idle keep-alive socket behind.
    response.writeHead(reply.status ?? 200, { 'content-type': contentType, connection: 'close', ...reply.headers });
    if (reply.stall) {
      response.write(body.slice(0, 1));
      return;
    }
    response.end(body);
  }
}
