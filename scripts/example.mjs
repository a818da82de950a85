#!/usr/bin/env node
// The Quick start: learn a baseline from one `ls -l /etc/ssl` run traced with strace, then
// judge two later runs against it: the same command again (clean), and a shell that ran it
// and then tried to read /etc/shadow as nobody (alerts). analyze's exit status 1 is the
// expected answer for the second run, so this script itself exits 0 after printing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = 'packages/cli/dist/bin.mjs';
if (!existsSync(new URL(`../${bin}`, import.meta.url))) {
  console.error(
    `example: ${bin} is missing; run \`pnpm build\` (or \`npm run example\`, which builds first)`,
  );
  process.exit(2);
}

function syscan(...args) {
  console.log(`\n$ syscan ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  console.log(
    `(exit status ${r.status}: ${['clean', 'anomalies found', 'usage or input error'][r.status] ?? 'unexpected'})`,
  );
  return r.status;
}

const normal = syscan('analyze', '--baseline', 'examples/ls.baseline.json', 'examples/ls-again.strace');
const unusual = syscan('analyze', '--baseline', 'examples/ls.baseline.json', 'examples/ls-shadow.strace');
if (normal !== 0 || unusual !== 1) {
  console.error('\nexample: expected exit 0 for the normal run and 1 for the unusual one');
  process.exit(1);
}
console.log('\nThe normal run matched its baseline; the unusual one was caught (see the HIGH denial above).');
