import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { NexmarkGenerator, type GeneratorConfig } from './generator.js';

/**
 * Writes events [0, events) as JSON lines (the spec's file format: one object per line,
 * with its `type`), in chunks, respecting the stream's backpressure. Returns the bytes written.
 *
 * @example
 * await writeEventsJsonl('events.jsonl', 100_000, { seed: 1, rate: 10_000 });
 */
export async function writeEventsJsonl(path: string, events: number, config: Partial<GeneratorConfig> = {}): Promise<number> {
  const gen = new NexmarkGenerator(config);
  const out = createWriteStream(path);
  let bytes = 0;
  const chunk = 4096;
  try {
    for (let n = 0; n < events; n += chunk) {
      const end = Math.min(events, n + chunk);
      let text = '';
      for (let i = n; i < end; i++) text += `${JSON.stringify(gen.event(i))}\n`;
      bytes += Buffer.byteLength(text);
      if (!out.write(text)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await once(out, 'finish');
  }
  return bytes;
}
