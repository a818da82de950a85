// PLACEHOLDER — replaced by the detector work.
export async function* analyzeStream(_source: AsyncIterable<string | Uint8Array>): AsyncGenerator<never> {}
