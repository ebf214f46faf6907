/**
 * The in-memory backend with incremental checkpoints: a checkpoint copies only the slots
 * changed since the previous one (a delta), with a full copy now and then, into files of
 * the job's checkpoint storage (`memory-chain.ts`). Reads and writes are the memory
 * backend's.
 *
 * - From its first checkpoint on, every change of a slot names it in a set of its state's
 *   table (`StateTable.touch`): one `Set.add` per write, the cost of the delta.
 * - A checkpoint is full the first time, after a restore, one in `fullEvery` (default 10),
 *   and when more than an eighth of a state's slots changed (then a full copy is cheaper,
 *   and the table stops naming changes until the next checkpoint: `StateTable.touch`).
 * - At the barrier (`captureCheckpoint`) the changed slots (or all) are copied into
 *   columns, as `snapshot()` copies them; the file is written afterwards, while the step
 *   goes on processing; the step's acknowledgement waits for it. A delta's file is written
 *   after the file before it: a failed write fails every later delta too, and the next
 *   checkpoint is full.
 * - A checkpoint is restored from its chain (`restoreHandle`): the full file, then each
 *   delta in order; with key groups (rescaling), only theirs. Savepoints are self-contained:
 *   the checkpoint layer turns the chain into a plain snapshot (`state-handles.ts`).
 * - A value changed in place without a write (an object read from value state and mutated)
 *   is not named, so a delta misses it: write state back with `update` (as the on-disk
 *   backends require anyway).
 *
 * @example
 * const backend = new IncrementalMemoryStateBackend({ clock: new SystemClock(), fullEvery: 20 });
 * // with checkpoints, a job given it writes deltas under <checkpoints>/shared/
 * const job = new Job({ name: 'counts', checkpoints: { interval: '1s' }, stateBackend: ({ clock }) => new IncrementalMemoryStateBackend({ clock }) });
 */
import { dirname, join } from 'node:path';
import { SluiceError } from '../errors/index.js';
import type { Clock } from '../time/clock.js';
import { incompatibleKind } from './declarations.js';
import { storageFailed } from './disk/storage-errors.js';
import { MemoryStateBackend, type MemoryStateBackendOptions } from './memory-backend.js';
import { readChainFile, writeChainFile, type ChainFile, type StateChanges } from './memory-chain.js';
import { ColumnsBuilder, keyGroupsOf } from './snapshot-format.js';
import type { StateTable } from './state-table.js';
import type { KeyedStateHandle, KeyedStateSnapshot, StateColumns, StateKind } from './types.js';

/** Options of {@link IncrementalMemoryStateBackend}. */
export interface IncrementalMemoryStateBackendOptions extends MemoryStateBackendOptions {
  /** One checkpoint in this many is full, the others deltas (it bounds a restore's chain). Default 10. */
  fullEvery?: number;
}

/**
 * The changes a table names before a full copy is cheaper: an eighth of its slots (at
 * least 1,024). A delta looks every changed slot up (a random access), a full copy walks
 * the maps in order, several times faster per slot.
 */
function trackingLimit(slots: number): number {
  return Math.max(1024, slots >> 3);
}

type MutableHandle = { -readonly [K in keyof KeyedStateHandle]: KeyedStateHandle[K] };

/**
 * Keyed state in memory whose checkpoints hold only what changed since the previous one
 * (see the file's notes). Give it to a job with `stateBackend`; without checkpoint storage
 * (no `sharedDir`) it checkpoints as {@link MemoryStateBackend} does.
 *
 * @example
 * const backend = new IncrementalMemoryStateBackend({ clock: new ManualClock() });
 * const { handle, written } = backend.captureCheckpoint('/tmp/cp/1', 1);
 * await written; // handle.chain restores it: await fresh.restoreHandle(handle)
 */
export class IncrementalMemoryStateBackend extends MemoryStateBackend {
  /** One checkpoint in this many is full. */
  readonly fullEvery: number;
  private chain: string[] = [];
  private sinceFull = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(options: IncrementalMemoryStateBackendOptions) {
    super(options);
    this.fullEvery = options.fullEvery ?? 10;
    if (!Number.isInteger(this.fullEvery) || this.fullEvery < 1) throw new SluiceError('INVALID_ARGUMENT', `fullEvery ${this.fullEvery} must be a positive integer`);
  }

  /**
   * Copies the state for checkpoint `checkpointId` now (the changed slots, or all) and
   * writes it into `dir` afterwards: `handle` restores it once `written` has resolved.
   */
  captureCheckpoint(dir: string, _checkpointId: number): { readonly handle: KeyedStateHandle; readonly written: Promise<void> } {
    const full = this.chain.length === 0 || this.sinceFull >= this.fullEvery - 1 || this.mostlyChanged();
    let file: ChainFile;
    try {
      file = full ? { kind: 'full', maxParallelism: this.maxParallelism, states: this.snapshot().states as Record<string, StateColumns> } : this.delta();
    } catch (e) {
      this.chain = []; // some tables may have forgotten their changes: the next one is full
      if (e instanceof SluiceError) throw e;
      throw new SluiceError('STATE_NOT_SERIALIZABLE', `a state value could not be copied into a checkpoint: ${(e as Error).message}`, { cause: e });
    }
    for (const table of this.tables.values()) table.startTracking(trackingLimit(table.slotCount()));
    const path = join(dir, full ? 'memory-full.bin' : 'memory-delta.bin');
    this.chain = full ? [path] : [...this.chain, path];
    this.sinceFull = full ? 0 : this.sinceFull + 1;
    const chain = [...this.chain];
    const handle: MutableHandle = { format: 'memory-chain', maxParallelism: this.maxParallelism, chain, dirs: [...new Set(chain.map((f) => dirname(f)))], incremental: !full, bytes: 0 };
    const previous = this.writing;
    const written = (async () => {
      if (!full) await previous; // a delta is only as good as the files before it
      try {
        handle.bytes = await writeChainFile(path, file);
      } catch (e) {
        throw storageFailed(`the checkpoint of the memory state into ${dir}`, e, dir);
      }
    })();
    this.writing = written;
    written.catch(() => {
      if (this.chain.includes(path)) this.chain = [];
    });
    return { handle, written };
  }

  /** {@link captureCheckpoint}, resolving with the handle once the file is written. */
  async checkpointTo(dir: string, checkpointId: number): Promise<KeyedStateHandle> {
    const { handle, written } = this.captureCheckpoint(dir, checkpointId);
    await written;
    return handle;
  }

  /**
   * Loads a chain {@link captureCheckpoint} wrote (of this or another subtask: with
   * `keyGroups`, only those groups). Adds to what is there, like `restore`.
   */
  async restoreHandle(handle: KeyedStateHandle, keyGroups?: { from: number; to: number }): Promise<void> {
    if (handle?.format !== 'memory-chain' || !Array.isArray(handle.chain) || handle.chain.length === 0) {
      throw new SluiceError('STATE_INCOMPATIBLE', `the incremental memory backend reads 'memory-chain' handles, not '${String(handle?.format)}'`);
    }
    for (const [i, path] of handle.chain.entries()) {
      const file = await readChainFile(path);
      if ((i === 0) !== (file.kind === 'full')) {
        throw new SluiceError('STATE_INCOMPATIBLE', `checkpoint chain: ${path} is a ${file.kind} file at position ${i}; a chain is one full file, then deltas`);
      }
      if (file.kind === 'full') this.restore({ maxParallelism: file.maxParallelism, states: file.states }, keyGroups);
      else this.applyDelta(file.states, keyGroups);
    }
    this.chain = [];
  }

  /** A table made after a checkpoint names its changes from the start: the checkpoint had none of its slots. */
  protected override tableFor(name: string, kind: StateKind): StateTable {
    const made = !this.tables.has(name);
    const table = super.tableFor(name, kind);
    if (made && this.chain.length > 0) table.startTracking(trackingLimit(0));
    return table;
  }

  override restore(snapshot: KeyedStateSnapshot, keyGroups?: { from: number; to: number }): void {
    super.restore(snapshot, keyGroups);
    this.chain = []; // what was restored is in no file of this backend: the next checkpoint is full
  }

  override dispose(): void {
    super.dispose();
    this.chain = [];
  }

  /** True when a table changed more slots than its tracking limit (or in a way it could not name). */
  private mostlyChanged(): boolean {
    for (const table of this.tables.values()) if (table.changedUntracked) return true;
    return false;
  }

  /** The changes since the last checkpoint; a table made since then gives all its slots. */
  private delta(): ChainFile {
    const states: Record<string, StateChanges> = {};
    for (const [name, table] of this.tables) {
      states[name] = table.tracking ? table.exportChanges() : { puts: table.exportColumns(), removed: new ColumnsBuilder('value', 0).finish() };
    }
    return { kind: 'delta', maxParallelism: this.maxParallelism, states };
  }

  /** Replaces the slots a delta names (of key groups `keyGroups`) by its live ones. */
  private applyDelta(states: Record<string, StateChanges>, keyGroups?: { from: number; to: number }): void {
    const from = keyGroups?.from ?? 0;
    const to = keyGroups?.to ?? this.maxParallelism - 1;
    const everyGroup = from === 0 && to === this.maxParallelism - 1;
    const now = this.clock.now();
    for (const [name, { puts, removed }] of Object.entries(states)) {
      const table = this.tableFor(name, puts.kind);
      if (table.kind !== puts.kind) throw incompatibleKind(name, puts.kind, table.kind);
      const putGroups = everyGroup ? undefined : keyGroupsOf(puts, this.maxParallelism);
      // Removed first, then loaded: a put whose entries expired meanwhile must not leave the older slot.
      for (const [c, groups] of [
        [removed, everyGroup ? undefined : keyGroupsOf(removed, this.maxParallelism)],
        [puts, putGroups],
      ] as const) {
        for (let i = 0; i < c.count; i++) {
          if (groups !== undefined && (groups[i]! < from || groups[i]! > to)) continue;
          table.remove(c.keys[i]!, c.namespaces?.[i]);
        }
      }
      table.loadColumns(puts, putGroups, from, to, now);
    }
  }
}

/** The entries a 'memory-chain' handle's files hold, as a plain snapshot any backend restores (for savepoints and other backends). */
export async function materializeMemoryChain(handle: KeyedStateHandle, clock: Clock): Promise<KeyedStateSnapshot> {
  const scratch = new IncrementalMemoryStateBackend({ clock, maxParallelism: handle.maxParallelism });
  await scratch.restoreHandle(handle);
  return scratch.snapshot();
}
