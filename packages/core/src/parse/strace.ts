// PLACEHOLDER — replaced by the strace parser work. Keeps the package compiling meanwhile.
import type { ParsedRecord } from '../types.js';
import type { LineParser, ResolvedParseOptions } from './line-parser.js';

export class StraceParser implements LineParser {
  constructor(_options: ResolvedParseOptions) {}
  parseLine(_line: string, _lineNo: number, _out: ParsedRecord[]): boolean {
    return false;
  }
  end(_out: ParsedRecord[]): void {}
}

export function parseStraceLine(_line: string): ParsedRecord | undefined {
  return undefined;
}
