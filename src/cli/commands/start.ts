/**
 * `gatehouse start`: the server. Its setting flags come from the settings schema
 * (src/config/settings-schema.ts: each setting with a `flagHelp`), registered in registerStart.
 */
import type { Command } from 'commander';
import { SETTINGS } from '../../config/settings-schema.js';
import { writeOut } from '../output.js';
import { closeOnSignals, settingsFor, storeCommand, type StoreFlags } from '../shared.js';

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

const START_FLAGS = SETTINGS.map(({ meta }) => meta).filter((meta) => meta.flag !== undefined && meta.flagHelp !== undefined);

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
  storeCommand(program, 'start', 'start the server (applies config-file clients and users first)', (command) => {
    // The flags of the settings schema that belong to `start` (the store flags are every command's).
    for (const meta of START_FLAGS) command.option(meta.flag!, meta.flagHelp!);
    return command;
  }).action((flags: StartFlags) => startCommand(flags));
}
