// PLACEHOLDER — replaced by the syscall-table work.
export type ArchName = string;
export function syscallName(_nr: number, _arch?: string): string | undefined {
  return undefined;
}
export function syscallNumber(_name: string, _arch?: string): number | undefined {
  return undefined;
}
export function resolveArch(_archField: string): ArchName | undefined {
  return undefined;
}
export function listArches(): ArchName[] {
  return [];
}
export function syscallTable(_arch: string): ReadonlyMap<number, string> | undefined {
  return undefined;
}
