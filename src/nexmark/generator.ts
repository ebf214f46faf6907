/**
 * The Nexmark event generator, exactly per `shared/nexmark/README.md`: event n is a
 * function of (seed, baseTime, rate, out-of-order group size g) and n alone, so ranges of
 * events can be made independently (splittable) and the Java port beside Apache Flink
 * (`bench/peers/flink/…/Generator.java`) makes the same events.
 *
 * The rules, in the order their random numbers are drawn (the Java port keeps the order):
 * - n mod 50 = 0 is a person, 1–3 an auction, 4–49 a bid; block b = floor(n / 50). The
 *   person of block b is the b-th (id 1000 + b); the auction at n mod 50 = r is the
 *   (3b + r − 1)-th (id 1000 + 3b + r − 1).
 * - Event time: `baseTime + floor(floor(t · 10⁶ / rate) / 1000)` ms with t = n, or with
 *   g > 1, t = floor(n / g) · g + (n · 953 mod g). (The spec's `/ 1000` is read as the
 *   integer division of microseconds into milliseconds, as in the standard generator:
 *   timestamps are whole milliseconds.)
 * - Person: name (one draw over 11 × 9 first/last names), email (two words), credit card
 *   (four draws of 4 digits), city (of 10), state (of 6), extra.
 * - Auction: itemName, description (two words), initialBid = price, reserve = initialBid +
 *   price, seller (hot with 3/4: the latest person id rounded down to 100; else one of the
 *   last 1000 people plus a lead of 10), category 10 + (of 5), expires = dateTime +
 *   floor(u · 2 · span) with span the event time of 100 auctions, extra.
 * - Bid: auction (hot with 1/2: latest auction id rounded down to 100; else one of the
 *   last 100 auctions plus a lead of 10), bidder (hot with 3/4: latest person id rounded
 *   down to 100, plus 1; else one of the last 1000 people), price, channel (with 1/2 one
 *   of Google/Facebook/Baidu/Apple, else `channel-<0..9999>`; its url is fixed by the
 *   channel), extra.
 * - price = round(10^(u · 6) · 100). extra pads to the standard average sizes (person 200,
 *   auction 500, bid 100, sizes counted as the standard generator does: 8 bytes per
 *   number, string lengths): its length is uniform in desired ± 20 %, a slice of a fixed
 *   pad text at a random offset.
 *
 * Speed (`bench/nexmark-generator.ts`): each event makes its random numbers in one loop
 * (`drawEvent`) and reads them in order; sizes that depend only on a table entry (a bid's
 * channel and url) are tabled, so that a bid touches none of the 20,000 channel strings;
 * `fill` stamps a batch by bisection, since event time never decreases with n when g = 1.
 * Every event of a type is made by one object literal: one hidden class per type.
 */
import { SluiceError } from '../errors/index.js';
import type { Auction, Bid, NexmarkEvent, Person } from './events.js';
import { drawEvent, drawInt, drawPrice, nextInt, seedRaw } from './prng.js';

/** What the events depend on. */
export interface GeneratorConfig {
  /** PRNG seed (a 32-bit integer). Default 42. */
  readonly seed: number;
  /** Event time of event 0, epoch ms. Default 1_700_000_000_000 (2023-11-14T22:13:20Z). */
  readonly baseTime: number;
  /** Events per second of event time. Default 10,000,000 (the standard suite). */
  readonly rate: number;
  /** Out-of-order group size g: event times are shuffled within groups of g numbers. Default 1 (in order). */
  readonly ooo: number;
}

export const DEFAULT_CONFIG: GeneratorConfig = Object.freeze({ seed: 42, baseTime: 1_700_000_000_000, rate: 10_000_000, ooo: 1 });

export const FIRST_ID = 1000;
export const EVENTS_PER_BLOCK = 50;
const HOT_SELLER_RATIO = 4; // 3 in 4 sellers are hot
const HOT_AUCTION_RATIO = 2; // 1 in 2 bids are on a hot auction
const HOT_BIDDER_RATIO = 4; // 3 in 4 bidders are hot
const ACTIVE_PEOPLE = 1000;
const ACTIVE_AUCTIONS = 100;
const PERSON_LEAD = 10;
const AUCTION_LEAD = 10;
/** The most numbers each kind of event draws (see the order above; `generator.test.ts` checks). */
const PERSON_DRAWS = 11; // name, 2 email words, 4 card groups, city, state, 2 for extra
const AUCTION_DRAWS = 11; // item, 2 description words, 2 prices, hot?, seller, category, expires, 2 for extra
const BID_DRAWS = 9; // hot?, auction, hot?, bidder, price, named?, channel, 2 for extra
/** Events that make 100 auctions: 100 · 50 / 3. */
const AUCTION_SPAN_EVENTS = (100 * 50) / 3;

const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
export const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
export const US_CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
const NAMED_CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'];
const CHANNELS = 10_000;

/** Fixed tables (independent of the seed), drawn from a fixed stream; the Java port builds the same. */
const WORD_COUNT = 1024;
const PAD_LENGTH = 8192;
const PAD_WINDOW = 7168; // extra starts at an offset in [0, PAD_WINDOW): room for 1024 chars
const TABLE_SEED = 0x5eed1e55;

const NAMES: string[] = [];
for (const f of FIRST_NAMES) for (const l of LAST_NAMES) NAMES.push(`${f} ${l}`);

const { WORDS, PAD } = (() => {
  seedRaw(TABLE_SEED);
  const words: string[] = [];
  for (let i = 0; i < WORD_COUNT; i++) {
    const len = 3 + nextInt(8);
    let w = '';
    for (let j = 0; j < len; j++) w += String.fromCharCode(97 + nextInt(26));
    words.push(w);
  }
  const pad: string[] = [];
  for (let i = 0; i < PAD_LENGTH; i++) pad.push(String.fromCharCode(97 + nextInt(26)));
  return { WORDS: words, PAD: pad.join('') };
})();

const CHANNEL_NAMES: string[] = [];
const CHANNEL_URLS: string[] = [];
for (let k = 0; k < CHANNELS; k++) {
  CHANNEL_NAMES.push(`channel-${k}`);
  CHANNEL_URLS.push(`https://nexmark.com/${WORDS[k % WORD_COUNT]!}/item?c=${k}`);
}
const NAMED_URLS = NAMED_CHANNELS.map((c) => `https://nexmark.com/${c.toLowerCase()}/item`);
/** A bid's size without its extra, by channel: the standard generator's count (5 numbers, the channel, the url, 1). */
const bidSize = (channel: string, url: string) => 8 * 5 + channel.length + url.length + 1;
const BID_SIZES = Int32Array.from(CHANNEL_NAMES, (c, k) => bidSize(c, CHANNEL_URLS[k]!));
const NAMED_BID_SIZES = Int32Array.from(NAMED_CHANNELS, (c, k) => bidSize(c, NAMED_URLS[k]!));
const CARD_GROUPS: string[] = [];
for (let i = 0; i < 10_000; i++) CARD_GROUPS.push(String(i).padStart(4, '0'));

/** A fixed table entry, exported for the Java port's parity test. */
export function word(i: number): string {
  return WORDS[i]!;
}

/** Padding so that the event's size averages `desired` (the standard generator's rule). */
function nextExtra(current: number, desired: number): string {
  if (current >= desired) return '';
  const want = desired - current;
  const delta = Math.round(want * 0.2);
  const len = want - delta + drawInt(2 * delta + 1);
  const off = drawInt(PAD_WINDOW);
  return PAD.substring(off, off + len);
}

/**
 * Makes events by number. Validates its configuration once; `event(n)` then allocates
 * only the event itself.
 *
 * @example
 * const g = new NexmarkGenerator({ seed: 1, rate: 10_000 });
 * g.event(0).type; // 'person'
 * g.event(4).type; // 'bid'
 */
export class NexmarkGenerator {
  readonly config: GeneratorConfig;
  // The configuration as plain number fields: the hot path reads these, not `config`.
  private readonly seed: number;
  private readonly baseTime: number;
  private readonly rate: number;
  private readonly ooo: number;
  private readonly twoSpanMs: number;

  constructor(config: Partial<GeneratorConfig> = {}) {
    const c = { ...DEFAULT_CONFIG, ...config };
    if (!Number.isInteger(c.seed)) throw new SluiceError('INVALID_ARGUMENT', `nexmark: seed must be an integer, got ${String(c.seed)}`);
    if (!Number.isSafeInteger(c.baseTime)) throw new SluiceError('INVALID_ARGUMENT', `nexmark: baseTime must be epoch ms, got ${String(c.baseTime)}`);
    if (!(typeof c.rate === 'number' && Number.isFinite(c.rate) && c.rate > 0)) {
      throw new SluiceError('INVALID_ARGUMENT', `nexmark: rate must be a positive number of events per second, got ${String(c.rate)}`);
    }
    if (!(Number.isInteger(c.ooo) && c.ooo >= 1) || (c.ooo > 1 && c.ooo % 953 === 0)) {
      throw new SluiceError('INVALID_ARGUMENT', `nexmark: the out-of-order group size must be a positive integer not divisible by 953, got ${String(c.ooo)}`);
    }
    this.config = Object.freeze(c);
    this.seed = c.seed | 0;
    this.baseTime = c.baseTime;
    this.rate = c.rate;
    this.ooo = c.ooo;
    this.twoSpanMs = (2 * AUCTION_SPAN_EVENTS * 1000) / c.rate;
  }

  /** Event time of event n (epoch ms). */
  timeOf(n: number): number {
    const g = this.ooo;
    const t = g > 1 ? Math.floor(n / g) * g + ((n * 953) % g) : n;
    return this.baseTime + Math.floor(Math.floor((t * 1e6) / this.rate) / 1000);
  }

  /** The largest amount of event time by which an event can come after a later-stamped one (0 in order). */
  maxDisorderMs(): number {
    const g = this.config.ooo;
    return g > 1 ? Math.ceil((g * 1000) / this.config.rate) + 1 : 0;
  }

  /** Event number n (n >= 0). */
  event(n: number): NexmarkEvent {
    return this.make(n, this.timeOf(n));
  }

  /** Fills `values` and `timestamps` with events [from, from + count): the source's inner loop. */
  fill(from: number, count: number, values: NexmarkEvent[], timestamps: number[]): void {
    if (this.ooo === 1) this.stamp(from, 0, count, timestamps);
    else for (let i = 0; i < count; i++) timestamps[i] = this.timeOf(from + i);
    for (let i = 0; i < count; i++) values[i] = this.make(from + i, timestamps[i]!);
  }

  /**
   * timestamps[k] = timeOf(from + k) for k in [i, end), in order (g = 1). Every step of
   * timeOf (× 1e6, / rate, floor, / 1000, floor, + baseTime) is monotonic in IEEE
   * arithmetic, so where the first and last of a range have the same time, so has every
   * event between: at 10M events/s a batch of 1024 costs two timeOf calls, not 1024.
   */
  private stamp(from: number, i: number, end: number, timestamps: number[]): void {
    while (end - i > 8) {
      const first = this.timeOf(from + i);
      if (first === this.timeOf(from + end - 1)) {
        for (; i < end; i++) timestamps[i] = first;
        return;
      }
      const mid = i + ((end - i) >> 1);
      this.stamp(from, i, mid, timestamps);
      i = mid;
    }
    for (; i < end; i++) timestamps[i] = this.timeOf(from + i);
  }

  private make(n: number, dateTime: number): NexmarkEvent {
    const r = n % EVENTS_PER_BLOCK;
    if (r >= 4) return this.bid(n, dateTime);
    if (r === 0) return this.person(n, dateTime);
    return this.auction(n, dateTime);
  }

  private person(n: number, dateTime: number): Person {
    drawEvent(this.seed, n, PERSON_DRAWS);
    const block = Math.floor(n / EVENTS_PER_BLOCK);
    const name = NAMES[drawInt(NAMES.length)]!;
    const emailAddress = `${WORDS[drawInt(WORD_COUNT)]!}@${WORDS[drawInt(WORD_COUNT)]!}.com`;
    const creditCard = `${CARD_GROUPS[drawInt(10_000)]!} ${CARD_GROUPS[drawInt(10_000)]!} ${CARD_GROUPS[drawInt(10_000)]!} ${CARD_GROUPS[drawInt(10_000)]!}`;
    const city = US_CITIES[drawInt(US_CITIES.length)]!;
    const state = US_STATES[drawInt(US_STATES.length)]!;
    const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length + 8 + 1;
    const extra = nextExtra(size, 200);
    return { type: 'person', id: FIRST_ID + block, name, emailAddress, creditCard, city, state, dateTime, extra };
  }

  private auction(n: number, dateTime: number): Auction {
    drawEvent(this.seed, n, AUCTION_DRAWS);
    const block = Math.floor(n / EVENTS_PER_BLOCK);
    const id = FIRST_ID + block * 3 + (n % EVENTS_PER_BLOCK) - 1;
    const itemName = WORDS[drawInt(WORD_COUNT)]!;
    const description = `${WORDS[drawInt(WORD_COUNT)]!} ${WORDS[drawInt(WORD_COUNT)]!}`;
    const initialBid = drawPrice();
    const reserve = initialBid + drawPrice();
    let seller: number;
    if (drawInt(HOT_SELLER_RATIO) > 0) {
      seller = Math.floor((FIRST_ID + block) / 100) * 100;
    } else {
      const people = block + 1;
      const active = Math.min(people, ACTIVE_PEOPLE);
      seller = FIRST_ID + people - active + drawInt(active + PERSON_LEAD);
    }
    const category = 10 + drawInt(5);
    const expires = dateTime + drawInt(this.twoSpanMs); // floor(u · 2 · span)
    const size = 8 + itemName.length + description.length + 8 * 6 + 1;
    const extra = nextExtra(size, 500);
    return { type: 'auction', id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra };
  }

  private bid(n: number, dateTime: number): Bid {
    drawEvent(this.seed, n, BID_DRAWS);
    const block = Math.floor(n / EVENTS_PER_BLOCK);
    let auction: number;
    if (drawInt(HOT_AUCTION_RATIO) > 0) {
      auction = Math.floor((FIRST_ID + block * 3 + 2) / 100) * 100;
    } else {
      const auctions = block * 3 + 3;
      const active = Math.min(auctions, ACTIVE_AUCTIONS);
      auction = FIRST_ID + auctions - active + drawInt(active + AUCTION_LEAD);
    }
    let bidder: number;
    if (drawInt(HOT_BIDDER_RATIO) > 0) {
      bidder = Math.floor((FIRST_ID + block) / 100) * 100 + 1;
    } else {
      const people = block + 1;
      const active = Math.min(people, ACTIVE_PEOPLE);
      bidder = FIRST_ID + people - active + drawInt(active);
    }
    const price = drawPrice();
    let channel: string;
    let url: string;
    let size: number;
    if (drawInt(2) === 0) {
      const c = drawInt(NAMED_CHANNELS.length);
      channel = NAMED_CHANNELS[c]!;
      url = NAMED_URLS[c]!;
      size = NAMED_BID_SIZES[c]!;
    } else {
      const c = drawInt(CHANNELS);
      channel = CHANNEL_NAMES[c]!;
      url = CHANNEL_URLS[c]!;
      size = BID_SIZES[c]!;
    }
    const extra = nextExtra(size, 100);
    return { type: 'bid', auction, bidder, price, channel, url, dateTime, extra };
  }
}

/** A 32-bit fingerprint of events [from, from + count) (ids, prices, times, string lengths): the Java port must print the same. */
export function fingerprint(gen: NexmarkGenerator, from: number, count: number): number {
  let h = 0;
  const mix = (x: number) => {
    h = Math.imul(h ^ (x | 0), 0x01000193) ^ Math.floor(x / 4294967296);
  };
  for (let n = from; n < from + count; n++) {
    const e = gen.event(n);
    mix(e.dateTime - gen.config.baseTime);
    mix(e.extra.length);
    if (e.type === 'person') {
      mix(e.id);
      mix(e.name.length + e.emailAddress.length * 7 + e.creditCard.charCodeAt(3) + e.city.length * 13 + e.state.charCodeAt(1));
    } else if (e.type === 'auction') {
      mix(e.id);
      mix(e.seller);
      mix(e.category);
      mix(e.initialBid);
      mix(e.reserve);
      mix(e.expires - e.dateTime);
      mix(e.itemName.length + e.description.length * 7);
    } else {
      mix(e.auction);
      mix(e.bidder);
      mix(e.price);
      mix(e.channel.length * 31 + e.url.length);
    }
  }
  return h >>> 0;
}

