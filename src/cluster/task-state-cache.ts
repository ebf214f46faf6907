import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A copy of one task's state as its changelog partition held it: `end` is that partition's last stable offset then. */
export interface TaskCopy {
  readonly end: bigint;
  readonly value: Buffer;
}

interface Entry {
  readonly end: bigint;
  readonly topicId: string | undefined;
}

const MAGIC = 'sluice-task-state 1\n';

/** `topic.partition.state`: topic names are letters, digits, dots, underscores and hyphens, so the last two dots split. */
function fileName(topic: string, partition: number): string {
  return `${topic}.${partition}.state`;
}

/**
 * Copies of tasks' state kept on this member's disk, one file per changelog partition
 * (`<dir>/<changelog>.<partition>.state`), each with the changelog's last stable offset
 * it reflects: the state this member last wrote or restored for a task it owns, and the
 * state its standby replicas follow for tasks it does not. A task that (re)starts here
 * takes the copy instead of reading the changelog when that offset is still the
 * partition's last stable offset (nothing was committed to it since), which is Kafka
 * Streams' local state reuse with its checkpoint file of changelog offsets. A copy that
 * does not match is ignored and the changelog read as before: the copy can be stale,
 * never wrong. Files are written to a temporary name and renamed, so a crash leaves the
 * old copy or the new one. The state itself lives only on disk; memory keeps offsets.
 */
export class TaskStateCache {
  private readonly entries = new Map<string, Entry>();
  private readonly writes = new Map<string, Promise<void>>();
  private made: Promise<unknown> | undefined;

  constructor(readonly dir: string) {}

  private key(topic: string, partition: number): string {
    return `${topic}/${partition}`;
  }

  /**
   * Reads the copies a previous run of this member left in its directory. Copies of a
   * topic whose id differs from `topicIds`' (the topic was deleted and made again) or
   * that is not there are deleted.
   */
  async load(topicIds: ReadonlyMap<string, string>): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return; // no directory yet: nothing kept
    }
    for (const name of names) {
      const m = /^(.+)\.(\d+)\.state$/.exec(name);
      if (!m) continue;
      const [, topic, p] = m as unknown as [string, string, string];
      const header = await this.header(join(this.dir, name));
      const id = topicIds.get(topic);
      if (header === undefined || id === undefined || (header.topicId !== undefined && header.topicId !== id)) {
        await rm(join(this.dir, name), { force: true });
        continue;
      }
      this.entries.set(this.key(topic, Number(p)), { end: header.end, topicId: header.topicId });
    }
  }

  /** The header of a kept file (its first KiB: the state after it is not read). */
  private async header(path: string): Promise<{ end: bigint; topicId: string | undefined } | undefined> {
    try {
      const file = await open(path, 'r');
      try {
        const { buffer, bytesRead } = await file.read(Buffer.alloc(1024), 0, 1024, 0);
        return parse(buffer.subarray(0, bytesRead));
      } finally {
        await file.close();
      }
    } catch {
      return undefined;
    }
  }

  /** The kept copy of `topic`'s partition, if it reflects the partition at its last stable offset `end`. */
  async get(topic: string, partition: number, end: bigint): Promise<TaskCopy | undefined> {
    const key = this.key(topic, partition);
    await this.writes.get(key);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.end !== end) return undefined;
    try {
      const buffer = await readFile(join(this.dir, fileName(topic, partition)));
      const h = parse(buffer);
      if (h === undefined || h.end !== end) return undefined;
      return { end, value: buffer.subarray(h.body) };
    } catch {
      return undefined;
    }
  }

  /** The last stable offset the kept copy of `topic`'s partition reflects, if there is one. */
  endOf(topic: string, partition: number): bigint | undefined {
    return this.entries.get(this.key(topic, partition))?.end;
  }

  /** Keeps `value` as the state of `topic`'s partition at last stable offset `end` (written in the background, in order per partition). */
  put(topic: string, partition: number, end: bigint, value: Buffer, topicId?: string): Promise<void> {
    const key = this.key(topic, partition);
    const path = join(this.dir, fileName(topic, partition));
    const head = Buffer.from(`${MAGIC}${JSON.stringify({ end: end.toString(), topicId })}\n`);
    const previous = this.writes.get(key) ?? Promise.resolve();
    const write = previous.then(async () => {
      await (this.made ??= mkdir(this.dir, { recursive: true }));
      const temp = `${path}.${process.pid}.tmp`;
      await writeFile(temp, Buffer.concat([head, value]));
      await rename(temp, path);
      this.entries.set(key, { end, topicId });
    });
    const settled = write.catch(() => {
      this.entries.delete(key); // a copy that could not be written is not kept
    });
    this.writes.set(key, settled);
    void settled.then(() => {
      if (this.writes.get(key) === settled) this.writes.delete(key);
    });
    return settled;
  }

  /** Forgets the copy of `topic`'s partition (its file is deleted). */
  async delete(topic: string, partition: number): Promise<void> {
    const key = this.key(topic, partition);
    await this.writes.get(key);
    this.entries.delete(key);
    await rm(join(this.dir, fileName(topic, partition)), { force: true });
  }

  /** The task partitions of which a copy is kept, of any changelog. */
  partitions(): number[] {
    return [...new Set([...this.entries.keys()].map((k) => Number(k.slice(k.lastIndexOf('/') + 1))))].sort((a, b) => a - b);
  }

  /** The kept copies, as (topic, partition) pairs. */
  copies(): Array<{ topic: string; partition: number }> {
    return [...this.entries.keys()].map((k) => ({ topic: k.slice(0, k.lastIndexOf('/')), partition: Number(k.slice(k.lastIndexOf('/') + 1)) }));
  }

  /** Settles once every write begun so far has landed. */
  async flush(): Promise<void> {
    await Promise.all([...this.writes.values()]);
  }

  /** Deletes the directory and everything in it (a member without a stable name: nobody will reuse it). */
  async destroy(): Promise<void> {
    await this.flush();
    this.entries.clear();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function parse(buffer: Buffer): { end: bigint; topicId: string | undefined; body: number } | undefined {
  if (buffer.subarray(0, MAGIC.length).toString() !== MAGIC) return undefined;
  const nl = buffer.indexOf(10, MAGIC.length);
  if (nl < 0) return undefined;
  try {
    const h = JSON.parse(buffer.subarray(MAGIC.length, nl).toString()) as { end?: string; topicId?: string };
    if (typeof h.end !== 'string') return undefined;
    return { end: BigInt(h.end), topicId: h.topicId, body: nl + 1 };
  } catch {
    return undefined;
  }
}
