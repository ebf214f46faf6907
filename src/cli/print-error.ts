import { SluiceError } from '../errors/index.js';

/** Prints an error for a person: the code, message, detail and hint of a SluiceError; the stack of anything else. */
export function printError(e: unknown): void {
  if (e instanceof SluiceError) process.stderr.write(`error ${e.message}\n`);
  else if (e instanceof Error) process.stderr.write(`error: ${e.stack ?? e.message}\n`);
  else process.stderr.write(`error: ${String(e)}\n`);
}
