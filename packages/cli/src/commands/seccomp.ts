import { errnoName, SECCOMP_DEFAULT_ACTIONS, SeccompProfileBuilder } from '@syscan/core';
import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { inputError } from '../errors.js';
import { watchFilteredInput } from '../io/filtered-input.js';
import { readBatches, resolveInputs } from '../io/input.js';
import { readJsonObject, writeFileAtomic } from '../io/json-file.js';
import { refuseProgramOutput } from '../io/own-output.js';
import { Progress } from '../io/progress.js';
import { type InputOptions, parseOptionsOf, progressOption, sourceOption } from '../options.js';
import { hostArch } from './syscalls.js';

interface SeccompOptions extends InputOptions {
  output?: string;
  baseline?: string[];
  safe?: boolean;
  minimal?: boolean;
  errno?: string;
  defaultAction?: string;
  argFilters?: boolean;
  arch?: string;
  archStyle: 'archMap' | 'architectures';
}

/**
 * `syscan seccomp`: an OCI seccomp profile (Docker/moby default.json shape) from known-good
 * traces and baselines, merged. Each trace is its own run (its own pids); baselines add
 * their syscall names.
 */
export function makeSeccompCommand(ctx: CliContext): Command {
  return new Command('seccomp')
    .description(
      'write a seccomp profile (Docker/Podman/Kubernetes, runc/crun) allowing what known-good runs did',
    )
    .argument(
      '[traces...]',
      "strace output or audit logs of normal runs (a directory: every file beneath it); '-' or none (and no --baseline) reads stdin",
    )
    .option('-o, --output <file>', 'write the profile here (default: stdout)')
    .option('-b, --baseline <file>', "add a baseline from 'syscan learn' (repeatable)", collect)
    .addOption(new Option('--minimal', 'allow exactly the calls observed (the default)').conflicts('safe'))
    .addOption(
      new Option(
        '--safe',
        'also allow what runc/crun call after loading the filter and before exec',
      ).conflicts('minimal'),
    )
    .addOption(
      new Option('--default-action <action>', 'what other calls get').choices([
        ...SECCOMP_DEFAULT_ACTIONS,
        ...SECCOMP_DEFAULT_ACTIONS.map((a) => a.slice('SCMP_ACT_'.length).toLowerCase()),
      ]),
    )
    .option('--errno <name>', 'errno other calls fail with under SCMP_ACT_ERRNO (default EPERM)')
    .option('--arg-filters', 'filter socket families, personality values and clone namespace flags as seen')
    .option('--arch <arch>', `arch of traces that do not name one (default: this machine's, ${hostArch()})`)
    .addOption(
      new Option(
        '--arch-style <style>',
        'archMap (Docker, Podman, Kubernetes) or architectures (OCI config.json)',
      )
        .choices(['archMap', 'architectures'])
        .default('archMap'),
    )
    .addOption(sourceOption())
    .addOption(progressOption())
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  strace -f -o run.strace ./server --selftest\n' +
        '  syscan seccomp --safe run.strace -o profile.json\n' +
        '  docker run --security-opt seccomp=profile.json IMAGE\n' +
        '  syscan seccomp --baseline baseline.json --arg-filters --errno ENOSYS -o profile.json',
    )
    .action(async (files: string[], opts: SeccompOptions) => {
      const builder = new SeccompProfileBuilder({ hostArch: opts.arch ?? hostArch() });
      const baselines = opts.baseline ?? [];
      for (const path of baselines) builder.addBaseline(await readJsonObject(path, 'baseline'), path);
      const inputs = files.length === 0 && baselines.length > 0 ? [] : await resolveInputs(files);
      // Audit a0…a3 are only kept on request; the filters need them.
      const parseOptions = parseOptionsOf(opts, opts.argFilters ? { auditFields: true } : {});
      const progress = new Progress(ctx.io.stderr, opts.progress);
      const filtered = watchFilteredInput();
      try {
        for (const input of inputs) {
          builder.beginTrace();
          const before = builder.events;
          const ownOutput = refuseProgramOutput(input.label, 'the profile');
          filtered.beginInput(input.label);
          for await (const batch of readBatches(input, ctx.io.stdin, parseOptions, progress)) {
            for (const record of batch) {
              ownOutput(record);
              filtered.record(record);
            }
            builder.observe(batch);
          }
          if (builder.events === before)
            throw inputError(`no syscall events in '${input.label}' (is it strace or audit output?)`);
        }
      } finally {
        progress.clear();
      }
      const { profile, warnings, stats } = builder.toProfile({
        mode: opts.safe ? 'safe' : 'minimal',
        defaultAction: opts.defaultAction,
        errno: opts.errno,
        argFilters: opts.argFilters === true,
        archStyle: opts.archStyle,
      });
      const leftOut = filtered.warning(
        'the profile allows only the calls the filter kept, and the program will be refused the rest',
      );
      for (const w of leftOut === undefined ? warnings : [...warnings, leftOut])
        ctx.io.stderr.write(`syscan: warning: ${w}\n`);
      const text = `${JSON.stringify(profile, null, 2)}\n`;
      if (opts.output === undefined || opts.output === '-') {
        await ctx.out.write(text);
        await ctx.out.end();
        return;
      }
      await writeFileAtomic(opts.output, text);
      const n = profile.defaultErrnoRet;
      const errno = n === undefined ? '' : ` (${errnoName(n) ?? 'errno'} ${n})`;
      ctx.io.stderr.write(
        `syscan: wrote '${opts.output}': ${stats.observedSyscalls} syscalls observed` +
          `${stats.runtimeSyscalls > 0 ? ` + ${stats.runtimeSyscalls} for the runtime` : ''} ` +
          `from ${stats.events} events, ${stats.baselines} baseline(s); arches ${stats.arches.join(', ')}; ` +
          `others get ${profile.defaultAction}${errno}\n`,
      );
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
