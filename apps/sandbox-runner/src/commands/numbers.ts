import { SyscanError } from '@syscan/core';

export function parsePositiveInt(value: string, what: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new SyscanError('ERR_SYSCAN_USAGE', `${what} must be a positive integer (got '${value}')`);
  }
  return n;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65_535) {
    throw new SyscanError('ERR_SYSCAN_USAGE', `--port must be 0–65535 (got '${value}')`);
  }
  return n;
}
