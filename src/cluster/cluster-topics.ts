import { metaTopicName } from './topology.js';

/** What an internal topic of a cluster is for, from the suffix of its name. */
export type InternalTopicKind = 'repartition' | 'changelog' | 'meta';

/** An internal topic found on the brokers, and whether its name alone could also be another cluster's. */
export interface OwnedTopic {
  readonly name: string;
  readonly kind: InternalTopicKind;
  /**
   * True when another cluster on the brokers could own the name too and nothing but the
   * name's length decided (see {@link internalTopicsOf}).
   */
  readonly ambiguous: boolean;
}

const SUFFIXES = ['repartition', 'changelog'] as const;

/**
 * The kind of internal topic `topic` would be in cluster `cluster`, by its name alone:
 * `<cluster>-meta`, or `<cluster>-<uid>[-<input>]-repartition`, or `<cluster>-<uid>-changelog`
 * (the names of `topology.ts`). Undefined for any other name: `a-b-meta` is not a topic of
 * cluster `a` (it is the meta topic of cluster `a-b`), nor is `a-events`.
 */
export function internalTopicKind(cluster: string, topic: string): InternalTopicKind | undefined {
  if (topic === metaTopicName(cluster)) return 'meta';
  if (!topic.startsWith(`${cluster}-`)) return undefined;
  const rest = topic.slice(cluster.length + 1);
  return SUFFIXES.find((kind) => rest.endsWith(`-${kind}`) && rest.length > kind.length + 1);
}

/**
 * The internal topics of `cluster` among `topics` (every topic on the brokers). Names
 * alone can collide: with clusters `a` and `a-b`, the topic `a-b-x-repartition` is
 * either cluster `a`'s (step `b-x`) or cluster `a-b`'s (step `x`). The rule:
 *
 * 1. The clusters on the brokers are the names `X` of the topics `X-meta` (a cluster's
 *    first member creates its meta topic before any other and registers its job in it),
 *    and `cluster` itself.
 * 2. A topic whose name is an internal topic name (`internalTopicKind`) of one of them
 *    only belongs to that one.
 * 3. Claimed by several: to the one whose consumer group reads it (`readBy`: the
 *    clusters whose group subscribes to it, is assigned it or has committed offsets for it),
 *    when exactly one does. A changelog `P-changelog` goes with its repartition topic
 *    `P-repartition` when exactly one group reads that (a keyed step's changelog and its
 *    repartition topic share its uid).
 * 4. Otherwise to the longest cluster name (the more specific prefix), marked
 *    `ambiguous`: a step uid that begins with another cluster's suffix is the rarer case.
 *
 * @example
 * const all = ['a-meta', 'a-b-meta', 'a-x-repartition', 'a-b-y-changelog', 'a-events'];
 * internalTopicsOf('a', all, () => []).map((t) => t.name); // ['a-meta', 'a-x-repartition']
 * internalTopicsOf('a-b', all, () => []).map((t) => t.name); // ['a-b-meta', 'a-b-y-changelog'] (the changelog marked ambiguous)
 */
export function internalTopicsOf(cluster: string, topics: Iterable<string>, readBy: (topic: string) => readonly string[]): OwnedTopic[] {
  const names = [...topics];
  const clusters = new Set([cluster, ...names.filter((t) => t.endsWith('-meta')).map((t) => t.slice(0, -'-meta'.length))]);
  const readerOf = (topic: string, claims: readonly string[]): string | undefined => {
    const readers = claims.filter((c) => readBy(topic).includes(c));
    return readers.length === 1 ? readers[0] : undefined;
  };
  const owned: OwnedTopic[] = [];
  for (const name of names) {
    const kind = internalTopicKind(cluster, name);
    if (kind === undefined) continue;
    const claims = [...clusters].filter((c) => internalTopicKind(c, name) !== undefined);
    let owner = claims.length === 1 ? cluster : readerOf(name, claims);
    if (owner === undefined && kind === 'changelog') owner = readerOf(`${name.slice(0, -'changelog'.length)}repartition`, claims);
    const ambiguous = owner === undefined;
    owner ??= claims.reduce((a, b) => (b.length > a.length ? b : a));
    if (owner === cluster) owned.push({ name, kind, ambiguous });
  }
  const order: InternalTopicKind[] = ['meta', 'repartition', 'changelog'];
  return owned.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
