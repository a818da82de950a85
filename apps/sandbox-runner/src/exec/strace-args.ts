/** strace's command line: what it traces, where the trace goes, what it refuses, the command's env. */

/** Environment variable names strace can set with `-E NAME=VALUE` (and a process can hold). */
const ENV_NAME = /^[^=\0]+$/;

/**
 * strace flags:
 * - `-f` follows forks, so children and grandchildren are judged too;
 * - `-q` drops attach/detach notices but keeps `+++ exited … +++`: the trace says how every
 *   process ended, so a process that vanishes without it is a loss (the integrity check);
 * - `-I 4`: fatal signals (and SIGTSTP) stay blocked, so the command cannot signal its
 *   tracer away (as PID 1 of the namespace, unhandled ones are never delivered at all);
 * - `-o FIFO` keeps the trace apart from the command's own stdout/stderr. strace opens the
 *   output close-on-exec, so the traced command never inherits the trace's write end;
 * - `-y`: every fd is printed with the file it really is (`3</home/u/.ssh/id_rsa>`), so a
 *   symlink made before the run is no way around a path rule (the rules read decorations);
 * - no timestamps: the detector uses the clock, which costs strace nothing;
 * - `-E`: the command's environment. strace and the isolation tool are started with only
 *   `PATH` (to find the command), so `LD_PRELOAD` and the like reach the command alone;
 * - `-e verbose=!%%stat`: the stat family's result struct (`{st_mode=…, st_size=…}`) is
 *   printed as its address. Nothing syscan judges reads it (paths, fds and returns are still
 *   decoded), and stat calls are what programs make most: not reading and printing it saved
 *   about 9 % of strace's CPU on a stat-heavy command, and a third of each such line.
 */
export function straceArgs(
  fifo: string,
  argv: readonly string[],
  preempt: readonly string[],
  env: NodeJS.ProcessEnv,
  allowOnly?: readonly string[],
): string[] {
  const args = ['-f', '-q', '-y', '-I', '4', '-o', fifo, '-e', 'verbose=!%%stat'];
  // Enforce mode: syscalls the policy would kill for anyway are refused at syscall *entry*
  // (EPERM) and the caller gets SIGKILL, so they never run. `?` makes strace skip names
  // this arch does not have instead of refusing to start. With `allowOnly` (every call
  // outside a baseline kills), all other calls are refused (`!…`), and of `preempt` only
  // those inside it need naming: two injections of one call are not asked of strace.
  const refuse = allowOnly === undefined ? preempt : preempt.filter((s) => allowOnly.includes(s));
  if (refuse.length > 0)
    args.push('-e', `inject=${refuse.map((s) => `?${s}`).join(',')}:error=EPERM:signal=SIGKILL`);
  if (allowOnly !== undefined)
    args.push('-e', `inject=!${allowOnly.map((s) => `?${s}`).join(',')}:error=EPERM:signal=SIGKILL`);
  args.push(...envArgs(env));
  args.push('--', ...argv);
  return args;
}

/**
 * `-E` flags making the command's environment exactly `env`: what the tools themselves
 * carry (PATH; PWD, which bwrap sets) is removed first unless `env` has it.
 */
export function envArgs(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const name of ['PATH', 'PWD']) if (env[name] === undefined) out.push('-E', name);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !ENV_NAME.test(name)) continue;
    out.push('-E', `${name}=${value}`);
  }
  return out;
}

/** strace's own environment: only the PATH it looks the command up in. */
export function toolEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
}
