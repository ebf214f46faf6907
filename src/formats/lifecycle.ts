import type { FormatHooks } from './format.js';

/**
 * One reader's or writer's use of a format, in the order every connector needs: `open`
 * once before the first encode or decode, `prepare` before each batch is decoded, and
 * `close` once at the end (only if it was opened). Connectors hold one per reader or
 * writer instead of calling the hooks themselves, so a format that needs them (the
 * Confluent formats register and fetch schemas) works with every connector: see
 * `test/formats/lifecycle.test.ts` and the connectors' format cases (`test/connectors/format-cases.ts`).
 *
 * @example
 * const lifecycle = new FormatLifecycle(format);
 * await lifecycle.open();              // in the writer's open()
 * const bytes = format.encode(value);  // in write()
 * await lifecycle.close();             // in close()
 */
export class FormatLifecycle {
  private opened: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly hooks: FormatHooks) {}

  /** Calls the format's `open` the first time; later calls wait for that one. */
  open(): Promise<void> {
    return (this.opened ??= Promise.resolve(this.hooks.open?.()));
  }

  /** Opens the format if needed, then calls its `prepare` with a batch of raw messages (none: nothing to prepare). */
  async prepare(messages: readonly Uint8Array[]): Promise<void> {
    await this.open();
    if (this.hooks.prepare && messages.length > 0) await this.hooks.prepare(messages);
  }

  /** Calls the format's `close` once, if `open` was called. */
  async close(): Promise<void> {
    if (this.closed || !this.opened) return;
    this.closed = true;
    await this.opened.catch(() => {}); // an open that failed has failed the job already
    await this.hooks.close?.();
  }
}
