// The shared corpus locator is core's test helper; one copy keeps the skip rule and the
// SYSCAN_SHARED override the same for every package.
export * from '../../../core/test/helpers/corpus.js';
