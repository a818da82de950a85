import { listArches, resolveArch, syscallName, syscallNumber, syscallTable } from '@syscan/core';
import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { usageError } from '../errors.js';

interface SyscallsOptions {
  arch?: string;
  json?: boolean;
}

/** Node's `process.arch` → the kernel's arch name, for the default table. */
const HOST_ARCH: Record<string, string> = {
  x64: 'x86_64',
  ia32: 'i386',
  arm64: 'aarch64',
  arm: 'arm',
  riscv64: 'riscv64',
  ppc64: 'ppc64le',
  s390x: 's390x',
  loong64: 'loongarch64',
  mips: 'mips',
  mipsel: 'mipsel',
};

/** `syscan syscalls`: number ↔ name, and whole tables, for every arch core knows. */
export function makeSyscallsCommand(ctx: CliContext): Command {
  return new Command('syscalls')
    .description('look up syscall numbers and names (no argument: the whole table)')
    .argument('[query]', 'a syscall name (→ its number) or number (→ its name)')
    .option('--arch <arch>', `architecture or audit arch= id (default: this machine's, ${hostArch()})`)
    .option('--json', 'JSON output')
    .addHelpText(
      'after',
      '\nExamples:\n  syscan syscalls 59                    # execve\n  syscan syscalls --arch aarch64 openat # 56\n  syscan syscalls --arch c00000b7 --json',
    )
    .action(async (query: string | undefined, opts: SyscallsOptions) => {
      const requested = opts.arch ?? hostArch();
      const arch = resolveArch(requested);
      if (arch === undefined) {
        throw usageError(`unknown arch '${requested}'; valid: ${listArches().join(', ')}`);
      }
      let text: string;
      if (query === undefined) {
        const table = [...(syscallTable(arch) ?? new Map<number, string>())].sort((a, b) => a[0] - b[0]);
        text = opts.json
          ? `${JSON.stringify({ arch, syscalls: table.map(([number, name]) => ({ number, name })) }, null, 2)}\n`
          : table.map(([nr, name]) => `${nr}\t${name}\n`).join('');
      } else if (/^(0x[0-9a-f]+|\d+)$/i.test(query.trim())) {
        const number = Number(query.trim());
        const name = syscallName(number, arch);
        if (name === undefined) throw usageError(`no syscall number ${number} on ${arch}`);
        text = opts.json ? `${JSON.stringify({ arch, number, name })}\n` : `${name}\n`;
      } else {
        const name = query.trim();
        const number = syscallNumber(name, arch);
        if (number === undefined) {
          const elsewhere = listArches().filter((a) => a !== arch && syscallNumber(name, a) !== undefined);
          throw usageError(
            `no syscall '${name}' on ${arch}${elsewhere.length > 0 ? ` (it exists on ${elsewhere.join(', ')})` : ''}`,
          );
        }
        text = opts.json ? `${JSON.stringify({ arch, name, number })}\n` : `${number}\n`;
      }
      await ctx.out.write(text);
      await ctx.out.end();
    });
}

export function hostArch(): string {
  const name = HOST_ARCH[process.arch];
  return name !== undefined && resolveArch(name) !== undefined ? name : 'x86_64';
}
