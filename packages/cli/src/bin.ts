#!/usr/bin/env node
import { limitHeapGrowth } from './bin-heap.js';
import { processIO } from './context.js';
import { run } from './program.js';

limitHeapGrowth();

// exitCode rather than exit(): stdout is flushed before the process ends.
run(process.argv, processIO()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`syscan: internal error: ${String(error)}\n`);
    process.exitCode = 2;
  },
);
