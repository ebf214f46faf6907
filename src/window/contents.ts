import { listState, valueState } from '../state/descriptors.js';
import type { AggregateFunction, KeyedStateBackend, ListState, Namespace, ValueState } from '../state/types.js';
import type { TimestampedValue } from './evictor.js';

/**
 * What a window keeps of its records, under the current key and namespace: a reduced
 * value, an aggregate's accumulator, or (for full window functions and evictors) the
 * records themselves.
 */
export interface WindowContents<T, R> {
  add(value: T, timestamp: number): void;
  /** The window's result so far: the reduced value or the aggregate's result; for records, the records. */
  get(): R | undefined;
  isEmpty(): boolean;
  /** Folds the contents of windows `from` into the current namespace (merging sessions), clearing them. */
  mergeFrom(from: readonly Namespace[], into: Namespace, setNamespace: (ns: Namespace) => void): void;
  clear(): void;
}

export class ReduceContents<T> implements WindowContents<T, T> {
  private readonly state: ValueState<T>;
  constructor(
    backend: KeyedStateBackend,
    private readonly reduce: (a: T, b: T) => T,
  ) {
    this.state = backend.getState(valueState<T>('window-contents'));
  }
  add(value: T): void {
    const cur = this.state.value();
    this.state.update(cur === undefined ? value : this.reduce(cur, value));
  }
  get(): T | undefined {
    return this.state.value();
  }
  isEmpty(): boolean {
    return this.state.value() === undefined;
  }
  mergeFrom(from: readonly Namespace[], into: Namespace, setNamespace: (ns: Namespace) => void): void {
    let acc: T | undefined;
    for (const ns of [into, ...from]) {
      setNamespace(ns);
      const v = this.state.value();
      if (ns !== into) this.state.clear();
      if (v !== undefined) acc = acc === undefined ? v : this.reduce(acc, v);
    }
    setNamespace(into);
    if (acc !== undefined) this.state.update(acc);
  }
  clear(): void {
    this.state.clear();
  }
}

export class AggregateContents<T, ACC, R> implements WindowContents<T, R> {
  private readonly state: ValueState<ACC>;
  constructor(
    backend: KeyedStateBackend,
    private readonly fn: AggregateFunction<T, ACC, R>,
  ) {
    this.state = backend.getState(valueState<ACC>('window-contents'));
  }
  add(value: T): void {
    const cur = this.state.value();
    this.state.update(this.fn.add(value, cur === undefined ? this.fn.createAccumulator() : cur));
  }
  get(): R | undefined {
    const acc = this.state.value();
    return acc === undefined ? undefined : this.fn.getResult(acc);
  }
  isEmpty(): boolean {
    return this.state.value() === undefined;
  }
  mergeFrom(from: readonly Namespace[], into: Namespace, setNamespace: (ns: Namespace) => void): void {
    const merge = this.fn.merge!; // checked when the step is built
    let acc: ACC | undefined;
    for (const ns of [into, ...from]) {
      setNamespace(ns);
      const v = this.state.value();
      if (ns !== into) this.state.clear();
      if (v !== undefined) acc = acc === undefined ? v : merge(acc, v);
    }
    setNamespace(into);
    if (acc !== undefined) this.state.update(acc);
  }
  clear(): void {
    this.state.clear();
  }
}

export class ListContents<T> implements WindowContents<T, TimestampedValue<T>[]> {
  readonly state: ListState<TimestampedValue<T>>;
  constructor(backend: KeyedStateBackend) {
    this.state = backend.getState(listState<TimestampedValue<T>>('window-contents'));
  }
  add(value: T, timestamp: number): void {
    this.state.add({ value, timestamp });
  }
  get(): TimestampedValue<T>[] {
    return this.state.get();
  }
  isEmpty(): boolean {
    return this.state.get().length === 0;
  }
  mergeFrom(from: readonly Namespace[], into: Namespace, setNamespace: (ns: Namespace) => void): void {
    const all: TimestampedValue<T>[] = [];
    for (const ns of from) {
      setNamespace(ns);
      all.push(...this.state.get());
      this.state.clear();
    }
    setNamespace(into);
    this.state.addAll(all);
  }
  clear(): void {
    this.state.clear();
  }
}
