#!/usr/bin/env node
// Installs the workspace (lockfile only) and builds every package: what both Quick start
// commands need on a fresh clone. Cheap when nothing changed (pnpm and turbo both no-op).
import { spawnSync } from 'node:child_process';

const pnpm = new URL('pnpm.mjs', import.meta.url).pathname;
for (const args of [
  ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent'],
  ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'],
]) {
  const { status } = spawnSync(process.execPath, [pnpm, ...args], {
    stdio: 'inherit',
    env: { TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', ...process.env },
  });
  if (status !== 0) {
    console.error(`syscan setup: \`pnpm ${args.join(' ')}\` failed (exit ${status})`);
    process.exit(status ?? 1);
  }
}
