#!/usr/bin/env node
// What the rule engine costs over parsing, in one process:
//
//   node bench/rules-cost.mjs [FILE] [PAIRS]
//
// Reads FILE (default $BENCH_DATA/strace-f.log) in 1 MiB chunks, PAIRS times (default 3)
// each of three ways, in turn: A = parse only; B = parse and track context; C = parse,
// track context and evaluate the agent-tools pack on every syscall event (rules read the
// context, so B is C's baseline). Prints CPU times per round and the median of
// (C - B) / A: the rules' own cost as a share of parsing.
// A timing on a shared machine is reported, never asserted. SYSCAN_CORE: another build
// of core to measure; default ../dist/index.mjs.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const core = await import(
  process.env.SYSCAN_CORE ? pathToFileURL(process.env.SYSCAN_CORE).href : '../dist/index.mjs'
);
const { createParser, createContextTracker, createRuleEvaluator, loadRules, AGENT_TOOLS_RULES } = core;
const file = process.argv[2] ?? join(process.env.BENCH_DATA ?? '/tmp/syscan-bench', 'strace-f.log');
const pairs = Number(process.argv[3] ?? 3);
const { rules } = loadRules([AGENT_TOOLS_RULES]);

function run(mode) {
  const c0 = process.cpuUsage();
  const parser = createParser();
  const tracker = mode === 'parse' ? undefined : createContextTracker();
  const evaluator = mode === 'rules' ? createRuleEvaluator(rules) : undefined;
  const alerts = [];
  const byRule = new Map();
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let events = 0;
  const handle = (records) => {
    for (const r of records) {
      if (tracker !== undefined) tracker.observe(r);
      if (r.kind !== 'syscall') continue;
      events++;
      if (evaluator !== undefined && evaluator.evaluate(r, tracker, alerts) > 0) {
        for (const a of alerts) byRule.set(a.rule, (byRule.get(a.rule) ?? 0) + 1);
        alerts.length = 0;
      }
    }
  };
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    handle(parser.push(buf.subarray(0, n)));
  }
  handle(parser.end());
  closeSync(fd);
  const c = process.cpuUsage(c0);
  return { seconds: (c.user + c.system) / 1e6, events, byRule };
}

run('parse');
run('rules');
const shares = [];
for (let i = 0; i < pairs; i++) {
  const a = run('parse');
  const b = run('context');
  const c = run('rules');
  shares.push((c.seconds - b.seconds) / a.seconds);
  console.log(
    `round ${i + 1}: parse ${a.seconds.toFixed(2)} s, +context ${b.seconds.toFixed(2)} s, +rules ${c.seconds.toFixed(2)} s ` +
      `(${c.events} events; alerts: ${[...c.byRule].map(([r, n]) => `${r} ${n}`).join(', ') || 'none'})`,
  );
}
shares.sort((x, y) => x - y);
console.log(
  `rules' cost over parsing, median of (C - B) / A: ${shares[Math.floor(shares.length / 2)].toFixed(3)}`,
);
