import { DataDirBusyError } from '../db/data-dir-lock.ts';
import { ConfigError } from '../config.ts';
import { KeyFileError } from '../crypto/keyring.ts';
import { PendingMigrationsError } from '../bootstrap.ts';
import type { Command } from './command.ts';
import { accessCloseCommand, accessOpenCommand, accessStatusCommand } from './commands/access.ts';
import { auditVerifyCommand } from './commands/audit-verify.ts';
import { clientsCreateCommand, clientsDisableCommand, clientsListCommand, clientsRotateSecretCommand, clientsShowCommand } from './commands/clients.ts';
import { fileRebuildCommand } from './commands/file.ts';
import { importBeneficiariesCommand, importPaymentsCommand } from './commands/import.ts';
import { incidentCancelCommand } from './commands/incident/cancel.ts';
import { incidentCohortCommand } from './commands/incident/cohort.ts';
import { incidentCloseCommand, incidentOpenCommand, incidentStatusCommand } from './commands/incident/lifecycle.ts';
import { incidentNotifyCommand } from './commands/incident/notify.ts';
import { incidentResetCredentialsCommand } from './commands/incident/reset-credentials.ts';
import { incidentReportCommand } from './commands/incident/report.ts';
import { keysRetireCommand, keysRotateCommand, keysRotateSigningCommand, keysStatusCommand } from './commands/keys.ts';
import { migrateCommand } from './commands/migrate.ts';
import { proceduresStatusCommand } from './commands/procedures.ts';
import { startCommand } from './commands/start.ts';
import { staffCreateCommand, staffDisableCommand, staffListCommand } from './commands/staff.ts';
import { usersCreateCommand } from './commands/users-create.ts';
import { CommandError, EXIT, UsageError, print, type CliIo } from './io.ts';

export const COMMANDS: Command[] = [
  startCommand,
  migrateCommand,
  usersCreateCommand,
  keysRotateCommand,
  keysStatusCommand,
  keysRetireCommand,
  keysRotateSigningCommand,
  auditVerifyCommand,
  accessStatusCommand,
  accessCloseCommand,
  accessOpenCommand,
  incidentOpenCommand,
  incidentStatusCommand,
  incidentCohortCommand,
  incidentCancelCommand,
  incidentResetCredentialsCommand,
  incidentNotifyCommand,
  incidentReportCommand,
  incidentCloseCommand,
  staffCreateCommand,
  staffListCommand,
  staffDisableCommand,
  fileRebuildCommand,
  proceduresStatusCommand,
  importBeneficiariesCommand,
  importPaymentsCommand,
  clientsCreateCommand,
  clientsListCommand,
  clientsShowCommand,
  clientsDisableCommand,
  clientsRotateSecretCommand,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: sesame <command> [options]   (sesame <command> --help for its options)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Configuration comes from the environment: see docs/configuration.md.',
  ].join('\n');
}

/** Runs one command and returns its exit code; never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    print(argv.length === 0 ? io.stderr : io.stdout, help());
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  // Longest match first: 'users create' before a hypothetical 'users'.
  const command = [...COMMANDS]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((c) => c.name.split(' ').every((word, i) => argv[i] === word));
  if (!command) {
    print(io.stderr, `sesame: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${help()}`);
    return EXIT.usage;
  }
  const args = argv.slice(command.name.split(' ').length);
  if (args.includes('--help') || args.includes('-h')) {
    print(io.stdout, `${command.summary}\n\nUsage: ${command.usage}`);
    return EXIT.ok;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      print(io.stderr, `sesame ${command.name}: ${err.message}\nUsage: ${command.usage}`);
      return EXIT.usage;
    }
    if (err instanceof CommandError || err instanceof ConfigError || err instanceof KeyFileError || err instanceof PendingMigrationsError || err instanceof DataDirBusyError) {
      print(io.stderr, `sesame ${command.name}: ${err.message}`);
      return EXIT.failed;
    }
    // Unexpected: driver messages may quote values (personal data), so only name and code.
    const code = (err as { code?: unknown }).code;
    print(io.stderr, `sesame ${command.name}: unexpected error (${(err as Error).name}${typeof code === 'string' ? ` ${code}` : ''}); nothing was changed by the failed step`);
    return EXIT.failed;
  }
}
