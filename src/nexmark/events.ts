/**
 * The Nexmark events (an online auction: people register, open auctions, place bids),
 * exactly as `shared/nexmark/README.md` names their fields. Times are epoch milliseconds.
 * Every event carries its `type`, so one JSON line is self-describing.
 */

/** A person registering. The k-th person (k = 0, 1, …) has id 1000 + k. */
export interface Person {
  readonly type: 'person';
  readonly id: number;
  readonly name: string;
  readonly emailAddress: string;
  readonly creditCard: string;
  readonly city: string;
  readonly state: string;
  readonly dateTime: number;
  readonly extra: string;
}

/** An auction opened by `seller` (a person id). The k-th auction has id 1000 + k. */
export interface Auction {
  readonly type: 'auction';
  readonly id: number;
  readonly itemName: string;
  readonly description: string;
  readonly initialBid: number;
  readonly reserve: number;
  readonly dateTime: number;
  readonly expires: number;
  readonly seller: number;
  /** 10..14. */
  readonly category: number;
  readonly extra: string;
}

/** A bid of `price` (cents) by person `bidder` on auction `auction`. */
export interface Bid {
  readonly type: 'bid';
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly channel: string;
  readonly url: string;
  readonly dateTime: number;
  readonly extra: string;
}

export type NexmarkEvent = Person | Auction | Bid;

export type EventType = NexmarkEvent['type'];

export function isPerson(e: NexmarkEvent): e is Person {
  return e.type === 'person';
}
export function isAuction(e: NexmarkEvent): e is Auction {
  return e.type === 'auction';
}
export function isBid(e: NexmarkEvent): e is Bid {
  return e.type === 'bid';
}
