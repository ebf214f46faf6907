/**
 * Checksums of checkpoint files: SHA-256 (node:crypto; with the CPU's SHA extensions about
 * 1.5 GB/s, so a 16 MB state costs about 10 ms: see `npm run bench:checkpoints`). A
 * checksum is written as `sha256:<hex>`, so that another algorithm can come later without
 * a new manifest format.
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

const ALGORITHM = 'sha256';
const READ_CHUNK = 1 << 20;

/** The checksum of bytes given in parts, in order. */
export function checksumOf(parts: readonly Uint8Array[] | string): string {
  const hash = createHash(ALGORITHM);
  if (typeof parts === 'string') hash.update(parts, 'utf8');
  else for (const p of parts) hash.update(p);
  return seal(hash);
}

/** The checksum of a large buffer, summed in slices with the event loop running between them. */
export async function checksumOfLarge(bytes: Uint8Array, slice = 4 << 20): Promise<string> {
  const hash = createHash(ALGORITHM);
  for (let from = 0; from < bytes.byteLength; from += slice) {
    hash.update(bytes.subarray(from, Math.min(bytes.byteLength, from + slice)));
    if (from + slice < bytes.byteLength) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return seal(hash);
}

/** A file's size and checksum, read in 1 MiB chunks (the event loop runs between them). With `sync`, it is also flushed to disk. */
export async function checksumOfFile(path: string, options: { sync?: boolean } = {}): Promise<{ bytes: number; checksum: string }> {
  const fh = await open(path, 'r');
  try {
    const hash = createHash(ALGORITHM);
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ_CHUNK, bytes);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    if (options.sync) await fh.sync();
    return { bytes, checksum: seal(hash) };
  } finally {
    await fh.close();
  }
}

function seal(hash: Hash): string {
  return `${ALGORITHM}:${hash.digest('hex')}`;
}
