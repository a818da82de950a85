#!/usr/bin/env node
// Runs the pnpm that package.json pins (packageManager), so that a fresh machine with only
// Node 20 and npm needs no global pnpm: a matching pnpm on PATH is used, else `npx -y pnpm@X`.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const pinned = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).packageManager.split('@')[1];

function globalPnpmVersion() {
  try {
    return execFileSync('pnpm', ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

const args = process.argv.slice(2);
const [cmd, cmdArgs] =
  globalPnpmVersion() === pinned ? ['pnpm', args] : ['npx', ['-y', `pnpm@${pinned}`, ...args]];
const result = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root });
if (result.error) {
  console.error(`syscan: could not run ${cmd}: ${result.error.message}`);
  process.exit(2);
}
process.exit(result.status ?? 1);
