/**
 * Fault tolerance: checkpoint storage, the coordinator that runs aligned checkpoints,
 * and the savepoint format. Exactly-once sinks take part through the two-phase-commit
 * hooks of the Sink contract (`connectors/sink.ts`).
 *
 * @module
 */
export type { CheckpointData, CheckpointHandle, CheckpointInventory, CheckpointStorage, InventoryEntry, QuarantineReason, StepState } from './types.js';
export type { RecoveryEvent } from './recovery.js';
export { FileCheckpointStorage, CHECKPOINT_FORMAT } from './file-storage.js';
export type { CheckpointOptions } from './config.js';
export { DEFAULT_KEEP_QUARANTINED } from './config.js';
export type { CheckpointStats } from './coordinator.js';
