// PLACEHOLDER — replaced by the detector work.
export interface Baseline {
  baselineSyscalls: string[];
}
export class BaselineLearner {}
export function learnBaseline(): Baseline {
  return { baselineSyscalls: [] };
}
export function mergeBaselines(a: Baseline): Baseline {
  return a;
}
