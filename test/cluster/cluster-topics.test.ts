/**
 * Which topics are a cluster's internal topics (`src/cluster/cluster-topics.ts`), when
 * cluster names are prefixes of each other. `status.test.ts` checks the same rule
 * against the real broker, with a real group as evidence.
 */
import { describe, expect, it } from 'vitest';
import { internalTopicKind, internalTopicsOf } from '../../src/cluster/index.js';

const names = (cluster: string, topics: string[], readers: Record<string, string[]> = {}) =>
  internalTopicsOf(cluster, topics, (t) => readers[t] ?? []).map((t) => (t.ambiguous ? `${t.name}?` : t.name));

describe('internalTopicKind', () => {
  it('knows the three kinds of names and nothing else', () => {
    expect(internalTopicKind('a', 'a-meta')).toBe('meta');
    expect(internalTopicKind('a', 'a-count-repartition')).toBe('repartition');
    expect(internalTopicKind('a', 'a-join-1-repartition')).toBe('repartition');
    expect(internalTopicKind('a', 'a-count-changelog')).toBe('changelog');
    expect(internalTopicKind('a', 'a-b-meta')).toBeUndefined(); // cluster a-b's meta topic
    expect(internalTopicKind('a', 'a-events')).toBeUndefined();
    expect(internalTopicKind('a', 'a-repartition')).toBeUndefined(); // no step uid
    expect(internalTopicKind('a', 'ab-count-changelog')).toBeUndefined();
    expect(internalTopicKind('a', 'b-a-count-changelog')).toBeUndefined();
  });
});

describe('internalTopicsOf', () => {
  const all = ['a-meta', 'a-count-repartition', 'a-count-changelog', 'a-b-meta', 'a-b-x-repartition', 'a-b-x-changelog', 'a-events', 'orders'];

  it('gives each cluster its own topics, meta first, when names do not collide', () => {
    expect(names('a', ['a-meta', 'a-count-changelog', 'a-count-repartition', 'orders'])).toEqual(['a-meta', 'a-count-repartition', 'a-count-changelog']);
  });

  it('gives a name two clusters could own to the longer cluster name, marked ambiguous, when no group reads it', () => {
    expect(names('a', all)).toEqual(['a-meta', 'a-count-repartition', 'a-count-changelog']);
    expect(names('a-b', all)).toEqual(['a-b-meta', 'a-b-x-repartition?', 'a-b-x-changelog?']);
  });

  it("gives it to the cluster whose group reads it, and a changelog goes with its repartition topic", () => {
    // Cluster a has a step 'b-x': its group reads a-b-x-repartition.
    const readers = { 'a-b-x-repartition': ['a'] };
    expect(names('a', all, readers)).toEqual(['a-meta', 'a-b-x-repartition', 'a-count-repartition', 'a-b-x-changelog', 'a-count-changelog']);
    expect(names('a-b', all, readers)).toEqual(['a-b-meta']);
  });

  it('falls back to the longer name when both groups read it', () => {
    expect(names('a-b', all, { 'a-b-x-repartition': ['a', 'a-b'] })).toEqual(['a-b-meta', 'a-b-x-repartition?', 'a-b-x-changelog?']);
  });

  it('never takes a topic of a longer cluster name that is registered, even one that does not exist yet as a group', () => {
    expect(names('a', ['a-meta', 'a-b-c-meta', 'a-b-c-n-changelog'])).toEqual(['a-meta']);
    // Without a-b-c-meta, nothing tells that cluster a-b-c exists: the topic is a's (step 'b-c-n').
    expect(names('a', ['a-meta', 'a-b-c-n-changelog'])).toEqual(['a-meta', 'a-b-c-n-changelog']);
  });
});
