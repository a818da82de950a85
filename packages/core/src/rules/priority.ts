/**
 * Falco's eight priorities and the syscan severity each maps to:
 *
 * | Falco priority  | syscan severity |
 * |-----------------|-----------------|
 * | Emergency       | critical        |
 * | Alert           | critical        |
 * | Critical        | critical        |
 * | Error           | high            |
 * | Warning         | medium          |
 * | Notice          | low             |
 * | Informational   | info            |
 * | Debug           | info            |
 *
 * Falco reads priorities case-insensitively and accepts `info` for `informational`.
 */
import type { Severity } from '../types.js';

export type FalcoPriority =
  | 'Emergency'
  | 'Alert'
  | 'Critical'
  | 'Error'
  | 'Warning'
  | 'Notice'
  | 'Informational'
  | 'Debug';

export const FALCO_PRIORITIES: readonly FalcoPriority[] = Object.freeze([
  'Emergency',
  'Alert',
  'Critical',
  'Error',
  'Warning',
  'Notice',
  'Informational',
  'Debug',
]);

/** The table above. */
export const PRIORITY_SEVERITY: Readonly<Record<FalcoPriority, Severity>> = Object.freeze({
  Emergency: 'critical',
  Alert: 'critical',
  Critical: 'critical',
  Error: 'high',
  Warning: 'medium',
  Notice: 'low',
  Informational: 'info',
  Debug: 'info',
});

/** The canonical priority for user text (`WARNING`, `info`), or undefined. */
export function parsePriority(text: string): FalcoPriority | undefined {
  const lower = text.trim().toLowerCase();
  if (lower === 'info') return 'Informational';
  return FALCO_PRIORITIES.find((p) => p.toLowerCase() === lower);
}
