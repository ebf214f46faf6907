import type { Batch } from '../../runtime/batch.js';
import { KeyedOperator } from '../../runtime/operators/keyed-operator.js';
import { valueState } from '../../state/descriptors.js';
import type { Key, ValueState } from '../../state/types.js';
import type { TemporalJoinSpec } from './temporal-join-operator.js';

/**
 * The processing-time temporal join (Flink's `TemporalProcessTimeJoinOperator`, the
 * temporal table function joined `FOR SYSTEM_TIME AS OF` a processing-time attribute):
 * input 0 is the probe stream, input 1 the versions. Per key, keyed state holds only the
 * latest version to arrive (a deletion clears it); a probe record is joined at once with
 * the version there when it arrives. No waiting, no watermark, no timers: the answer
 * depends on which record of the two inputs arrived first, so a rerun over the same input
 * can join differently (use the event-time join for reproducible results). Version times
 * (`versionTime`) and late outputs do not apply.
 */
export class ProcessingTimeTemporalJoinOperator<P, V, K extends Key, O> extends KeyedOperator<P | V, K, O> {
  private latest!: ValueState<V>;

  constructor(private readonly spec: TemporalJoinSpec<P, V, K, O>) {
    super();
  }

  protected openKeyed(): void {
    const scope = this.openScope(() => {});
    this.latest = scope.backend.getState(valueState<V>('temporal-join-latest'));
  }

  processBatch(batch: Batch<P | V>, input: number): void {
    if (input === 0) this.forEachKeyed(batch as Batch<P>, this.spec.probeKey, 'probe key selector', (p, ts) => this.probe(p, ts));
    else this.forEachKeyed(batch as Batch<V>, this.spec.versionKey, 'version key selector', (v) => (this.spec.isDelete?.(v) ? this.latest.clear() : this.latest.update(v)));
    this.scope.collector.flush(this.out);
  }

  private probe(p: P, ts: number): void {
    const version = this.latest.value();
    if (version === undefined && this.spec.kind === 'inner') return;
    const collector = this.scope.collector;
    collector.timestamp = ts;
    try {
      collector.collect(this.spec.join(p, version));
    } catch (error) {
      this.runtime.userError(error, p, ts, 'join function');
    }
  }
}
