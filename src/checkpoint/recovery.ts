/**
 * Which checkpoint a job resumes from, when the latest may be damaged.
 *
 * The rule (pinned by `test/checkpoint/corrupt-restore.test.ts`):
 * - Checkpoint N completes when its directory gets its name `chk-N` (its files and
 *   manifest are on disk by then) and the completion record says N (`completion-record.ts`);
 *   a savepoint completes when its manifest is written and the record names it. Only
 *   after that do sinks commit the output up to N. So the highest id among the record and
 *   every `chk-N` directory, whatever state it is in now, bounds what sinks may have
 *   committed: `completedUpTo`.
 * - Resuming from checkpoint M replays everything after M, so it writes again whatever
 *   was committed after M: nothing when M >= completedUpTo.
 * - So the newest checkpoint that verifies (manifest checksum, every file's size and
 *   SHA-256, the incremental `shared/` files included) is used when its id is at least
 *   completedUpTo. A damaged checkpoint is never used: it is moved to quarantine (once: the
 *   record keeps the evidence that it completed), where the `keepQuarantined` most recently
 *   quarantined directories are kept for inspection and older ones deleted, each with a log
 *   line (a crash loop must not fill the disk: `integrity.test.ts`).
 * - Otherwise an exactly-once job refuses to start (CHECKPOINT_CORRUPT) and says what
 *   would be repeated. An at-least-once (or 'none') job falls back to the newest intact
 *   checkpoint with a WARN: repeated output is within its contract. With no intact
 *   checkpoint left, both refuse: starting from the beginning would also lose the state,
 *   and a source that starts from its latest position would skip input.
 * - `fromCheckpoint` (an id, a path, or 'none') is the user accepting repeated output:
 *   newer checkpoints move to quarantine (superseded) and the record is set to the chosen
 *   one, so that later restarts go on from there without refusing again.
 */
import { SluiceError } from '../errors/index.js';
import { DEFAULT_KEEP_QUARANTINED } from './config.js';
import type { CheckpointData, CheckpointInventory, CheckpointStorage, InventoryEntry } from './types.js';

/** What recovery decided, for the job's log. */
export interface RecoveryEvent {
  readonly level: 'info' | 'warn';
  /** (A refusal is no event: it is the job's failure, logged as such.) */
  readonly event: 'checkpoint_quarantined' | 'quarantine_pruned' | 'checkpoint_fallback' | 'checkpoint_chosen' | 'checkpoints_superseded' | 'checkpoints_kept';
  readonly message: string;
  readonly checkpointId?: number | undefined;
  readonly path?: string | undefined;
}

export interface RecoveryOptions {
  readonly jobName: string;
  /** Exactly-once delivery: never fall back past committed output. */
  readonly exactlyOnce: boolean;
  /** The first restore uses this checkpoint (an id of the storage, a directory, or 'none' for the beginning). */
  readonly fromCheckpoint?: string | number | undefined;
  /** Quarantined directories kept, the most recent; older ones are deleted. Default {@link DEFAULT_KEEP_QUARANTINED}. */
  readonly keepQuarantined?: number | undefined;
  readonly onEvent?: ((event: RecoveryEvent) => void) | undefined;
}

type Damaged = InventoryEntry & { readonly damage: string };

/**
 * Chooses and reads the checkpoint each attempt of a job resumes from (the rule above),
 * and tidies the storage when the run starts from a savepoint or finishes.
 *
 * @example
 * const recovery = new CheckpointRecovery(storage, { jobName: 'orders', exactlyOnce: true });
 * const data = await recovery.latest(); // undefined: start from the beginning
 */
export class CheckpointRecovery {
  private explicit: string | undefined;

  constructor(
    private readonly storage: CheckpointStorage,
    private readonly options: RecoveryOptions,
  ) {
    this.explicit = options.fromCheckpoint === undefined ? undefined : String(options.fromCheckpoint);
  }

  /** The checkpoint to resume from, verified; undefined to start from the beginning. Throws CHECKPOINT_CORRUPT rather than repeat committed output. */
  async latest(): Promise<CheckpointData | undefined> {
    const explicit = this.explicit;
    this.explicit = undefined; // later attempts resume from the checkpoints this run writes
    if (explicit !== undefined) return this.chosen(explicit);
    const storage = this.storage;
    if (!storage.inventory) {
      const handle = (await storage.list()).find((h) => h.kind === 'checkpoint');
      return handle ? storage.read(handle) : undefined;
    }
    const inv = await storage.inventory();
    const damaged: Damaged[] = [];
    let use: { entry: InventoryEntry; data: CheckpointData } | undefined;
    for (const entry of inv.entries) {
      // Known damage (no manifest, or one that does not verify) is put aside wherever it is; files are read down to the first intact checkpoint.
      if (entry.damage !== undefined) {
        damaged.push(entry as Damaged);
        continue;
      }
      if (use) continue;
      try {
        use = { entry, data: await storage.readPath(entry.path) };
      } catch (e) {
        if (!(e instanceof SluiceError && e.code === 'CHECKPOINT_CORRUPT')) throw e;
        damaged.push({ ...entry, damage: e.detail ?? e.message });
      }
    }
    const moved = await this.quarantine(inv, damaged);
    await this.pruneQuarantine();
    const upTo = inv.completedUpTo;
    if (use && use.entry.checkpointId >= upTo) return use.data;
    if (!use && upTo === 0) return undefined;
    // A later checkpoint completed than the newest one that can be used.
    if (use && !this.options.exactlyOnce) {
      const id = use.entry.checkpointId;
      this.emit('warn', 'checkpoint_fallback', `resuming from checkpoint ${id}, the newest intact one: checkpoint ${upTo} is damaged, so output after checkpoint ${id} that sinks already committed is written again (at-least-once delivery allows it)`, id, use.entry.path);
      await storage.markCompleted?.(id, use.entry.owned ? undefined : use.entry.path);
      return use.data;
    }
    throw await this.refusal(inv, damaged, moved, use?.entry);
  }

  /**
   * The run starts from a savepoint (id `id`, at `path`): checkpoints newer than it are of
   * another history and move to quarantine; the record names the savepoint, so that a
   * restart before the first checkpoint goes back to it, not to an older checkpoint.
   */
  async startingFrom(id: number, path: string): Promise<void> {
    if (!this.storage.inventory) return;
    await this.supersede(await this.storage.inventory(), id, `the run starts from the savepoint ${path} (${id})`);
    await this.storage.markCompleted?.(id, path);
  }

  /** The job finished: nothing is left to resume, so its checkpoints go (damaged ones to quarantine) and the record says 0. */
  async finished(): Promise<void> {
    const storage = this.storage;
    // The record first: a crash halfway leaves checkpoints the next run resumes from (and finishes at once), not a refusal.
    try {
      await storage.markCompleted?.(0);
    } catch (e) {
      // (A full disk, say.) The job did finish; its checkpoints stay, and the next run resumes from the final one and ends at once.
      this.emit('warn', 'checkpoints_kept', `the job finished, but its checkpoints could not be cleared (${(e as Error).message.split('\n')[0]}); they are kept, and a next run resumes from the final one and ends at once`);
      return;
    }
    for (const h of await storage.list()) if (h.kind === 'checkpoint') await storage.discard(h);
    if (storage.inventory) {
      for (const e of (await storage.inventory()).entries) {
        if (e.owned && e.damage !== undefined) await this.move(e as Damaged, e.unfinished ? 'unfinished' : 'damaged');
      }
      await this.pruneQuarantine();
    }
    await storage.pruneShared?.(Number.MAX_SAFE_INTEGER); // the incremental checkpoint files they listed
  }

  /** Resumes from the checkpoint the user named (`fromCheckpoint`): verified, and taken as the new latest. */
  private async chosen(spec: string): Promise<CheckpointData | undefined> {
    const storage = this.storage;
    const inv = storage.inventory ? await storage.inventory() : undefined;
    if (spec === 'none') {
      if (inv) await this.supersede(inv, 0, 'the run starts from the beginning (--from-checkpoint none)');
      await storage.markCompleted?.(0);
      this.emit('warn', 'checkpoint_chosen', `starting from the beginning as asked (--from-checkpoint none): output sinks committed before is written again`);
      return undefined;
    }
    let path = spec;
    if (/^\d+$/.test(spec)) {
      const id = Number(spec);
      const own = inv ? inv.entries.find((e) => e.checkpointId === id && e.damage === undefined) : (await storage.list()).find((h) => h.checkpointId === id);
      if (!own) {
        const have = inv ? inv.entries.filter((e) => e.damage === undefined).map((e) => e.checkpointId) : (await storage.list()).map((h) => h.checkpointId);
        const quarantined = (await storage.quarantined?.(id)) ?? [];
        throw new SluiceError('CHECKPOINT_INVALID', `job '${this.options.jobName}' has no intact checkpoint ${id} to resume from`, {
          detail: `intact checkpoints: ${have.length > 0 ? have.join(', ') : 'none'}${quarantined.length > 0 ? `; quarantined: ${quarantined.join(', ')}` : ''}`,
          hint: 'Give --from-checkpoint the id of an intact checkpoint, the path of a checkpoint directory, or none.',
        });
      }
      path = own.path;
    }
    const data = await storage.readPath(path);
    const id = data.checkpointId;
    if (inv) await this.supersede(inv, id, `the run resumes from checkpoint ${id} (--from-checkpoint)`);
    const own = inv?.entries.some((e) => e.owned && e.path === path) ?? true;
    await storage.markCompleted?.(id, own ? undefined : path);
    this.emit('warn', 'checkpoint_chosen', `resuming from checkpoint ${id} at ${path} as asked (--from-checkpoint): output sinks committed after it is written again`, id, path);
    return data;
  }

  /** Moves the storage's checkpoints newer than `id` to quarantine (they belong to a history the run leaves). */
  private async supersede(inv: CheckpointInventory, id: number, why: string): Promise<void> {
    const newer = inv.entries.filter((e) => e.owned && e.checkpointId > id);
    const moved: string[] = [];
    for (const e of newer) moved.push(await this.move(e as Damaged, e.damage === undefined ? 'superseded' : e.unfinished ? 'unfinished' : 'damaged', false));
    if (moved.length > 0) {
      this.emit('warn', 'checkpoints_superseded', `${why}: checkpoint(s) ${newer.map((e) => e.checkpointId).join(', ')} moved to quarantine (${moved.join(', ')})`);
    }
    await this.pruneQuarantine();
  }

  /** Deletes quarantined directories but the `keepQuarantined` most recent, with a line for each. */
  private async pruneQuarantine(): Promise<void> {
    const keep = this.options.keepQuarantined ?? DEFAULT_KEEP_QUARANTINED;
    for (const path of (await this.storage.pruneQuarantine?.(keep)) ?? []) {
      this.emit('info', 'quarantine_pruned', `deleted the quarantined checkpoint directory ${path}: only the ${keep} most recently quarantined are kept (checkpoints.keepQuarantined)`, undefined, path);
    }
  }

  /** Quarantines the damaged checkpoints the storage owns, after making sure the record keeps what they are evidence of. Returns where each went. */
  private async quarantine(inv: CheckpointInventory, damaged: readonly Damaged[]): Promise<Map<number, string>> {
    const moved = new Map<number, string>();
    const owned = damaged.filter((d) => d.owned);
    if (owned.length === 0) return moved;
    const evidence = owned.find((d) => d.checkpointId === inv.completedUpTo && !d.unfinished);
    if (evidence) await this.storage.markCompleted?.(evidence.checkpointId);
    for (const d of owned) {
      try {
        moved.set(d.checkpointId, await this.move(d, d.unfinished ? 'unfinished' : 'damaged'));
      } catch (e) {
        // Gone while we looked: another process's retention was deleting it (an old
        // checkpoint half deleted has no manifest; an attempt of this one has ended its
        // retention before the next begins). Nothing to keep.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    return moved;
  }

  private async move(entry: Damaged, reason: 'damaged' | 'unfinished' | 'superseded', log = true): Promise<string> {
    const to = await this.storage.quarantine!(entry.path, reason);
    if (log) {
      const what = reason === 'unfinished' ? 'an unfinished checkpoint (no manifest, written by an earlier Sluice)' : `damaged: ${entry.damage}`;
      this.emit(reason === 'unfinished' ? 'info' : 'warn', 'checkpoint_quarantined', `checkpoint ${entry.checkpointId} is ${what}; moved to ${to} (never used; kept among the ${this.options.keepQuarantined ?? DEFAULT_KEEP_QUARANTINED} most recently quarantined)`, entry.checkpointId, to);
    }
    return to;
  }

  /** The CHECKPOINT_CORRUPT error of a job that will not resume: which checkpoint, what would be repeated, how to accept it. */
  private async refusal(inv: CheckpointInventory, damaged: readonly Damaged[], moved: Map<number, string>, intact: InventoryEntry | undefined): Promise<SluiceError> {
    const upTo = inv.completedUpTo;
    const latest = damaged.find((d) => d.checkpointId === upTo) ?? damaged[0];
    const where = moved.get(upTo) ?? (await this.storage.quarantined?.(upTo))?.at(-1);
    const whereText = where === undefined ? '' : ` (${moved.has(upTo) ? 'moved' : 'moved earlier'} to ${where})`;
    const what = latest?.damage ?? `it is not there (${inv.evidence})`;
    const delivery = this.options.exactlyOnce ? 'exactly-once' : 'at-least-once';
    const head = `job '${this.options.jobName}' will not resume: its latest checkpoint, ${upTo}, is damaged${whereText}: ${what}.`;
    const consequence = intact
      ? ` The newest intact checkpoint is ${intact.checkpointId}; the sinks may already have committed the output of checkpoint${upTo - intact.checkpointId > 1 ? `s ${intact.checkpointId + 1}-${upTo}` : ` ${upTo}`}, which resuming from ${intact.checkpointId} would write a second time (${delivery} delivery does not allow it).`
      : ` No intact checkpoint is left: starting from the beginning would lose the job's state and write again the output the sinks committed up to checkpoint ${upTo}.`;
    const accept = intact
      ? `To resume from checkpoint ${intact.checkpointId} and accept that this output may be written twice: \`sluice run <job> --from-checkpoint ${intact.checkpointId}\` (or \`start({ fromCheckpoint: ${intact.checkpointId} })\`); \`--from-checkpoint none\` starts from the beginning instead.`
      : "To start from the beginning and accept that output is written again: `sluice run <job> --from-checkpoint none` (or `start({ fromCheckpoint: 'none' })`); or start from a savepoint with --from-savepoint PATH.";
    return new SluiceError('CHECKPOINT_CORRUPT', head + consequence, {
      detail: `evidence that checkpoint ${upTo} completed: ${inv.evidence}; damaged: ${damaged.map((d) => `${d.checkpointId} (${d.damage})`).join('; ') || 'none found'}`,
      hint: `${accept} The damaged checkpoint is kept under quarantine/ for inspection; restarting without one of these refuses again.`,
    });
  }

  private emit(level: RecoveryEvent['level'], event: RecoveryEvent['event'], message: string, checkpointId?: number, path?: string): void {
    this.options.onEvent?.({ level, event, message, checkpointId, path });
  }
}
