import { Command } from 'commander';
import { makeAnalyzeCommand } from './commands/analyze.js';
import { makeLearnCommand } from './commands/learn.js';
import { makeParseCommand } from './commands/parse.js';
import { makeRulesCommand } from './commands/rules.js';
import { makeScoreCommand } from './commands/score.js';
import { makeSeccompCommand } from './commands/seccomp.js';
import { makeSyscallsCommand } from './commands/syscalls.js';
import { type CliContext, type CliIO, createContext } from './context.js';
import { oneLine, reportError } from './errors.js';
import { printable } from './report/style.js';
import { VERSION } from './version.js';

/**
 * Builds the `syscan` command tree. Pure: nothing is read, written or exited until it is
 * parsed; commander's own errors come back as exceptions (exitOverride) so that
 * {@link run} maps every failure to an exit status in one place.
 */
export function createProgram(ctx: CliContext): Command {
  const program = new Command('syscan')
    .description(
      'read syscall telemetry (strace, Linux audit, seccomp, AppArmor, SELinux) and judge it against a baseline',
    )
    .version(VERSION, '-V, --version')
    .option('--debug', 'show stack traces for errors')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      // One line, prefixed like our own errors: `syscan: unknown option '--x' (Did you mean --y?)`.
      // It quotes the argument given (a file name a glob expanded can hold ESC): escaped.
      outputError: (s, write) => write(`syscan: ${printable(oneLine(s.replace(/^error: /, '')), 1000)}\n`),
    })
    .addHelpText(
      'after',
      '\nExit status: 0 clean, 1 anomalies found, 2 usage or input error.\nRun `syscan help <command>` for examples.',
    );
  for (const command of [
    makeParseCommand,
    makeAnalyzeCommand,
    makeLearnCommand,
    makeScoreCommand,
    makeSeccompCommand,
    makeSyscallsCommand,
    makeRulesCommand,
  ]) {
    // addCommand does not copy exitOverride/configureOutput; copy them before adding.
    program.addCommand(command(ctx).copyInheritedSettings(program));
  }
  return program;
}

/** Runs `argv` (process.argv form) and returns the exit status; never throws. */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const ctx = createContext(io);
  const debug = argv.includes('--debug') || io.env.SYSCAN_DEBUG === '1';
  try {
    await createProgram(ctx).parseAsync([...argv]);
    return ctx.exitCode;
  } catch (error) {
    return reportError(error, (line) => io.stderr.write(line), debug);
  }
}
