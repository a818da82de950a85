/** Structured logs: one JSON object per line on stderr. */
export type LogFn = (msg: string, fields?: Record<string, unknown>) => void;

export function jsonLogger(write: (line: string) => void = (l) => process.stderr.write(l)): LogFn {
  return (msg, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
  };
}

export const silentLogger: LogFn = () => {};
