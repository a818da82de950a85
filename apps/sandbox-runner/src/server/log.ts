/**
 * Structured logs on pino: one JSON object per line on stderr, ISO times, no pid/hostname
 * noise. The app logs through a plain `LogFn` so tests can capture lines without a stream.
 */
import { pino } from 'pino';

export type LogFn = (msg: string, fields?: Record<string, unknown>) => void;

/** A pino logger writing to `destination` (default: stderr, synchronously, so nothing is lost at exit). */
export function jsonLogger(destination: NodeJS.WritableStream | number = 2): LogFn {
  const logger = pino(
    {
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination,
  );
  return (msg, fields = {}) => {
    const level = msg.endsWith('error') ? 'error' : 'info';
    logger[level](fields, msg);
  };
}

export const silentLogger: LogFn = () => {};
