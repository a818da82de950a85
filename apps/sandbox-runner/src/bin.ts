import { isSyscanError } from '@syscan/core';
import { Command, CommanderError } from 'commander';
import { makeExecCommand } from './commands/exec.js';
import { makeServeCommand } from './commands/serve.js';

/** Usage and setup errors: one line on stderr, exit 2 (the command's own codes are its own). */
const EXIT_USAGE = 2;

function fail(message: string): void {
  process.stderr.write(`syscan-sandbox: ${message}\n`);
  process.exitCode = EXIT_USAGE;
}

async function main(): Promise<void> {
  const program = new Command('syscan-sandbox')
    .description('run commands under strace, judge their syscalls live against a policy, kill on breach')
    .version('0.0.0')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) })
    .addCommand(makeExecCommand())
    .addCommand(makeServeCommand());
  for (const c of program.commands) c.exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help / --version exit 0; commander already printed what to print.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    if (isSyscanError(error)) return fail(error.message);
    // A bug, not a usage error: one line still; SYSCAN_DEBUG=1 shows the stack.
    fail(
      `internal error: ${process.env.SYSCAN_DEBUG ? (error as Error)?.stack : ((error as Error)?.message ?? String(error))}`,
    );
  }
}

await main();
