import { SluiceError } from '../errors/index.js';

/**
 * Names a side output of type T. Functions send to it with `ctx.output(tag, value)`;
 * `stream.sideOutput(tag)` is the stream of what was sent.
 *
 * @example
 * const tooLarge = new OutputTag<Order>('too-large');
 * const main = orders.process({ processElement(o, ctx, out) { if (o.total > 1e6) ctx.output(tooLarge, o); else out.collect(o); } });
 * main.sideOutput(tooLarge).print();
 */
export class OutputTag<T> {
  /** Phantom field: carries T for the type checker. */
  declare readonly __type?: T;
  constructor(readonly id: string) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new SluiceError('INVALID_ARGUMENT', 'an OutputTag needs a non-empty id');
    }
    Object.freeze(this);
  }
}
