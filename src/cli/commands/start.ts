/**
 * `gatehouse start`: the server. Every flag of `start` is defined here, in registerStart.
 */
import type { Command } from 'commander';
import { writeOut } from '../output.js';
import { addStoreOptions, closeOnSignals, settingsFor, type StoreFlags } from '../shared.js';

export interface StartFlags extends StoreFlags {
  port?: string;
  host?: string;
  issuer?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
  allowHttpIssuer?: boolean;
  explainErrors?: string;
}

export async function startCommand(flags: StartFlags): Promise<void> {
  const settings = await settingsFor(flags, true);
  // Imported lazily: the administrative commands do not need the HTTP server.
  const { startGatehouse } = await import('../../server.js');
  // `--port 0` (any free port) with the default issuer: the issuer follows the bound port.
  const issuerFromAddress = settings.port === 0 && (settings.issuer === 'http://localhost:0' || settings.issuer === 'https://localhost:0');
  const running = await startGatehouse(settings, { issuerFromAddress });
  writeOut(`Gatehouse is running.\n  Issuer:    ${settings.issuer}\n  Listening: ${running.url}\n  Discovery: ${settings.issuer}/.well-known/openid-configuration`);

  closeOnSignals(running, 'shutting down');
}

export function registerStart(program: Command): void {
  addStoreOptions(
    program
      .command('start')
      .description('start the server (applies config-file clients and users first)')
      .option('-p, --port <port>', 'port to listen on (default: $PORT, the config file, or 9001)')
      .option('--host <host>', 'interface to listen on (default: the config file, or localhost)')
      .option('--issuer <url>', 'issuer URL: https, or http on a loopback host (default: $GATEHOUSE_ISSUER, the config file, or http://localhost:PORT)')
      .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain) (default: $GATEHOUSE_TLS_CERT or the config file tls_cert)')
      .option('--tls-key <file>', 'the PEM private key of --tls-cert (default: $GATEHOUSE_TLS_KEY or the config file tls_key)')
      .option('--trust-proxy <proxies>', 'behind a TLS terminator: honour X-Forwarded-For/-Proto from true (any), a hop count, or comma-separated addresses/CIDRs (default: $GATEHOUSE_TRUST_PROXY, the config file, or false)')
      .option('--allow-http-issuer', 'accept a plain http issuer on a non-loopback host (insecure; private test networks only)')
      .option('--explain-errors <mode>', 'show registered redirect URIs and the side-by-side comparison on redirect_uri error pages: auto (loopback issuer only), always or never (default: $GATEHOUSE_EXPLAIN_ERRORS, the config file, or auto)'),
  ).action((flags: StartFlags) => startCommand(flags));
}
