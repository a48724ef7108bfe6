/**
 * The `gatehouse` command line:
 *
 *   gatehouse start [--config FILE] [--port N] [--host H] [--issuer URL] [--database URL]
 *                   [--tls-cert FILE --tls-key FILE] [--trust-proxy PROXIES] [--allow-http-issuer]
 *                   [--explain-errors auto|always|never]
 *   gatehouse migrate [--config FILE] [--database URL]
 *   gatehouse cleanup [--config FILE] [--database URL] [--batch-size N] [--json]
 *   gatehouse clients create|list|show <id>|update <id>|delete <id> [--force]
 *   gatehouse users create|list|update <username>|set-password <username>|delete <username>
 *   gatehouse resources create <uri>|list|delete <uri>
 *   gatehouse logout-deliveries list [--failed] [--limit N] [--json]
 *   gatehouse audit [--type TYPE] [--client ID] [--user NAME] [--since TIME|DURATION] [--limit N] [--json]
 *   gatehouse keys list|rotate [--alg ALG] [--activate-after SECONDS]|retire <kid>
 *   gatehouse demo [--database URL] [--host H] [--client-port N] [--server-port N] [--resource-port N]
 *
 * The settings flags (all of start's; --config and --database of every command that opens the
 * store) are generated from the settings schema (src/config/settings-schema.ts) by ./shared.ts.
 * Every command resolves its settings the same way (src/config/resolve-settings.ts). Expected
 * failures (bad configuration, invalid client metadata, duplicates, unknown ids) print one
 * line to stderr and exit with code 1, never a stack trace.
 *
 * This file assembles the program; each command group lives in ./commands/, all output goes
 * through ./output.ts and the helpers the commands share are in ./shared.ts.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerFlows } from './commands/flows.js';
import { registerCleanup } from './commands/cleanup-command.js';
import { registerClients } from './commands/clients.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerAdmin } from './commands/admin.js';
import { registerKeys } from './commands/keys.js';
import { registerLogoutDeliveries } from './commands/logout-deliveries.js';
import { registerMigrate } from './commands/migrate.js';
import { registerRegistrationTokens } from './commands/registration-tokens.js';
import { registerResources } from './commands/resources.js';
import { registerStart } from './commands/start.js';
import { registerUsers } from './commands/users.js';
import { reportFailure } from './output.js';
import { optionDescription } from './shared.js';

export { CliError } from './output.js';
export { parseSince } from './commands/audit.js';

function packageVersion(): string {
  try {
    // src/cli/main.ts and dist/cli/main.js are both two levels below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('gatehouse')
    .description('Gatehouse: an OAuth 2.1 / OpenID Connect authorization server')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ optionDescription })
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    });

  registerStart(program);
  registerMigrate(program);
  registerCleanup(program);
  registerClients(program);
  registerUsers(program);
  registerResources(program);
  registerRegistrationTokens(program);
  registerKeys(program);
  registerDemo(program);
  registerLogoutDeliveries(program);
  registerAudit(program);
  registerFlows(program);
  registerDoctor(program);
  registerAdmin(program);

  return program;
}

/** Runs the CLI with `argv` as in `process.argv` (node, script, ...arguments). */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (or the help / version).
      process.exitCode = error.exitCode;
      return;
    }
    reportFailure(error);
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return (
      import.meta.url === pathToFileURL(realpathSync(script)).href || import.meta.url === pathToFileURL(script).href
    );
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  await main(process.argv);
}
