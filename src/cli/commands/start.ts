/**
 * `gatehouse start`: the server. Its flags are every settings flag of the settings schema
 * (src/config/settings-schema.ts: each setting with a `flag`), registered by addSettingOptions.
 */
import type { Command } from 'commander';
import type { SettingsFlags } from '../../config/settings-schema.js';
import { CliError, writeOut } from '../output.js';
import { addSettingOptions, closeOnSignals, explainingDatabase, settingsFor } from '../shared.js';

export async function startCommand(flags: SettingsFlags): Promise<void> {
  const settings = await settingsFor(flags, true, 'start');
  // Imported lazily: the administrative commands do not need the HTTP server.
  const { startGatehouse } = await import('../../server.js');
  // `--port 0` (any free port) with the default issuer: the issuer follows the bound port.
  const issuerFromAddress =
    settings.port === 0 && (settings.issuer === 'http://localhost:0' || settings.issuer === 'https://localhost:0');
  let running: Awaited<ReturnType<typeof startGatehouse>>;
  try {
    running = await explainingDatabase(settings.databaseUrl, () => startGatehouse(settings, { issuerFromAddress }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(
        `${(error as Error).message}: port ${settings.port} on ${settings.host} is in use (another Gatehouse, or another server); choose another with --port, PORT or port in the config file, or stop the other server`,
      );
    }
    throw error;
  }
  writeOut(
    `Gatehouse is running.\n  Issuer:    ${settings.issuer}\n  Listening: ${running.url}\n  Discovery: ${settings.issuer}/.well-known/openid-configuration`,
  );

  closeOnSignals(running, 'shutting down');
}

export function registerStart(program: Command): void {
  const command = program
    .command('start')
    .description('start the server (applies config-file clients and users first)');
  addSettingOptions(command, 'start').action((flags: SettingsFlags) => startCommand(flags));
}
