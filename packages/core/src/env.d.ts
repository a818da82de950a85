// Web-standard globals that Node 20 and browsers both provide. Declared here because
// core is compiled without @types/node (it must not reach for node: modules).
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
