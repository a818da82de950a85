// A core module for bench/driver.mjs that also runs the context tracker, as the session does:
//
//   SYSCAN_CORE=bench/with-context.mjs node bench/driver.mjs FILE
//
// It exports what the driver uses: core's SyscallAnomalyDetector (SYSCAN_CONTEXT_CORE: another
// build of core, default ../dist/index.mjs) and a createParser whose parsers hand every record
// to one context tracker (per parser) before returning it, so that the driver times
// parse + context + detect (driver.mjs itself times parse + detect).
import { pathToFileURL } from 'node:url';

const core = await import(
  process.env.SYSCAN_CONTEXT_CORE ? pathToFileURL(process.env.SYSCAN_CONTEXT_CORE).href : '../dist/index.mjs'
);

export const SyscallAnomalyDetector = core.SyscallAnomalyDetector;

export function createParser(options) {
  const parser = core.createParser(options);
  const tracker = core.createContextTracker();
  const observed = (records) => {
    for (const r of records) tracker.observe(r);
    return records;
  };
  return {
    push: (chunk) => observed(parser.push(chunk)),
    end: () => observed(parser.end()),
    get stats() {
      return parser.stats;
    },
  };
}
