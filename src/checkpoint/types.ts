/** The state of one step in a checkpoint: what its operator (or source reader) snapshot. */
export interface StepState {
  /** The kind of step ('process', 'window', 'source', 'sink', …): a savepoint is refused for a step of another kind. */
  readonly kind: string;
  /** Version of the operator's state shape, for migration functions. */
  readonly version: number;
  /** The state, for a step that ran as one subtask. */
  readonly state: unknown;
  /** For a step that ran in parallel: each subtask's state by index (`state` is then undefined). See `step-parts.ts`. */
  readonly parts?: unknown[] | undefined;
}

/** Everything one checkpoint holds: per step uid, its state. */
export interface CheckpointData {
  readonly jobName: string;
  readonly checkpointId: number;
  /** Processing time when the checkpoint was triggered. */
  readonly triggeredAt: number;
  readonly steps: Record<string, StepState>;
}

/** A completed checkpoint or savepoint as storage lists it. */
export interface CheckpointHandle {
  readonly checkpointId: number;
  readonly kind: 'checkpoint' | 'savepoint';
  /** Where it lives (a directory for the file storage). */
  readonly path: string;
  readonly sizeBytes: number;
  readonly completedAt: number;
}

/**
 * Where checkpoints live. A checkpoint exists only once `write` has resolved: the file
 * storage writes its manifest last (write, fsync, rename), so a crash in the middle
 * leaves no half checkpoint that recovery could pick. Other stores (S3, a database)
 * implement the same interface.
 */
export interface CheckpointStorage {
  /** Writes a checkpoint durably. */
  write(data: CheckpointData): Promise<CheckpointHandle>;
  /** Writes a savepoint to `path` (self-contained, movable). */
  writeSavepoint(data: CheckpointData, path: string): Promise<CheckpointHandle>;
  /** Completed checkpoints, newest first. */
  list(): Promise<CheckpointHandle[]>;
  /**
   * Reads a checkpoint that `list` returned: a restarted attempt restores from the newest.
   * Rejects when it is missing or damaged (the file storage: CHECKPOINT_INVALID).
   */
  read(handle: CheckpointHandle): Promise<CheckpointData>;
  /** Reads a savepoint (or a retained checkpoint) from a path. */
  readPath(path: string): Promise<CheckpointData>;
  /** Deletes a checkpoint (retention). */
  discard(handle: CheckpointHandle): Promise<void>;
  /**
   * Optional: a directory for the files of `owner`'s incremental checkpoints (`owner` is a
   * subtask's name), outside every checkpoint's own directory: checkpoints list the
   * directories under it they need (`shared-state.ts`). Without it, checkpoints hold
   * plain snapshots of every step.
   */
  sharedDir?(owner: string): string;
  /**
   * Optional, with `sharedDir`: deletes the directories of incremental checkpoint files
   * that no retained checkpoint lists, among those written for checkpoints up to
   * `upToId` (later ones may belong to a checkpoint still being taken).
   */
  pruneShared?(upToId: number): Promise<void>;
  /**
   * Optional, for recovery (`recovery.ts`): every checkpoint the storage holds, damaged ones
   * included, and how far completed checkpoints go (what sinks may have committed). Without
   * it, a restart reads the latest listed checkpoint and has no fallback.
   */
  inventory?(): Promise<CheckpointInventory>;
  /** Optional, with `inventory`: moves a checkpoint that must be neither used nor deleted out of the way (never into retention). Returns where it went. */
  quarantine?(path: string, reason: QuarantineReason): Promise<string>;
  /** Optional, with `inventory`: records checkpoint `id` (at `path` when it is not one of the storage's) as the latest completed one. */
  markCompleted?(id: number, path?: string): Promise<void>;
  /** Optional, with `inventory`: where checkpoints of `id` went that were quarantined before. */
  quarantined?(id: number): Promise<string[]>;
  /**
   * Optional, with `quarantine`: deletes the quarantined directories but the `keep` most
   * recently quarantined (recovery calls it with `checkpoints.keepQuarantined`). Returns
   * the paths deleted. Only directories it quarantined itself: never one it does not understand.
   */
  pruneQuarantine?(keep: number): Promise<string[]>;
}

/** Why a checkpoint directory was moved to quarantine. */
export type QuarantineReason = 'damaged' | 'unfinished' | 'superseded' | 'replaced';

/** A checkpoint (or the savepoint on record) as recovery considers it. */
export interface InventoryEntry {
  readonly checkpointId: number;
  readonly kind: 'checkpoint' | 'savepoint';
  readonly path: string;
  /** The storage owns the directory (and may quarantine it); false for a savepoint or a directory elsewhere. */
  readonly owned: boolean;
  /** Set when the entry is already known to be unusable (its manifest is missing or does not verify, or it is gone). */
  readonly damage?: string | undefined;
  /**
   * A directory without a manifest written by a Sluice before completion records: an
   * unfinished checkpoint (a crash while writing), so no evidence that its output was
   * committed. It is quarantined, not used.
   */
  readonly unfinished?: boolean | undefined;
}

/** What a storage holds, for recovery. */
export interface CheckpointInventory {
  /** Newest first. */
  readonly entries: readonly InventoryEntry[];
  /** Sinks may have committed the output of every checkpoint up to this id (0: none). */
  readonly completedUpTo: number;
  /** Where `completedUpTo` comes from, for messages. */
  readonly evidence: string;
}
