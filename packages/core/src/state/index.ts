// Buckets per rolling window (a shared store keeps rings of this many).
export { BUCKETS as WINDOW_BUCKETS } from '../detect/window.js';
export { MemoryDetectorStore, type MemoryDetectorStoreOptions } from './memory-store.js';
export { PayloadDetector, SharedDetector, type SharedDetectorOptions } from './shared-detector.js';
export {
  type DetectorStore,
  isDetectorStore,
  type StateCounts,
  type StateOutcome,
  type StateReply,
  type StateSnapshot,
  type StateStep,
  type StateUpdate,
} from './store.js';
