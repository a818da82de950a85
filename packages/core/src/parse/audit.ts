// PLACEHOLDER — replaced by the audit parser work. Keeps the package compiling meanwhile.
import type { ParsedRecord } from '../types.js';
import type { LineParser, ResolvedParseOptions } from './line-parser.js';

export class AuditParser implements LineParser {
  constructor(_options: ResolvedParseOptions) {}
  parseLine(_line: string, _lineNo: number, _out: ParsedRecord[]): boolean {
    return false;
  }
  end(_out: ParsedRecord[]): void {}
}
