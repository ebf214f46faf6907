/**
 * The batch answer of each Nexmark query in DuckDB SQL, over a table `events` (all event
 * types, one row per JSON line, columns absent from a type NULL). The output columns are
 * those of the streaming query; windows are epoch-aligned `[start, end)`.
 *
 * q4's streaming result is updating: the batch answer is its current value (the last
 * row per category).
 */
import type { QueryName } from '../queries/index.js';

const BIDS = `(SELECT * FROM events WHERE type = 'bid')`;
const AUCTIONS = `(SELECT * FROM events WHERE type = 'auction')`;
const PERSONS = `(SELECT * FROM events WHERE type = 'person')`;

export const BATCH_SQL: Readonly<Record<QueryName, string>> = Object.freeze({
  q0: `SELECT auction, bidder, price, dateTime, extra FROM ${BIDS}`,
  // 0.908 as a DOUBLE: a DECIMAL literal would make the product exact, unlike the stream's.
  q1: `SELECT auction, bidder, price * CAST(0.908 AS DOUBLE) AS price, dateTime, extra FROM ${BIDS}`,
  q2: `SELECT auction, price FROM ${BIDS} WHERE auction % 123 = 0`,
  q3: `SELECT P.name, P.city, P.state, A.id
       FROM ${AUCTIONS} A JOIN ${PERSONS} P ON A.seller = P.id
       WHERE A.category = 10 AND P.state IN ('OR', 'ID', 'CA')`,
  q4: `SELECT category, AVG(final) AS avgPrice FROM (
         SELECT A.id, A.category, MAX(B.price) AS final
         FROM ${AUCTIONS} A JOIN ${BIDS} B ON A.id = B.auction
         WHERE B.dateTime BETWEEN A.dateTime AND A.expires
         GROUP BY A.id, A.category)
       GROUP BY category`,
  q5: `WITH w AS (
         SELECT auction, (dateTime - dateTime % 2000) - k * 2000 AS windowStart
         FROM ${BIDS}, range(0, 5) AS r(k)),
       c AS (SELECT auction, windowStart, windowStart + 10000 AS windowEnd, COUNT(*) AS num FROM w GROUP BY auction, windowStart),
       m AS (SELECT windowStart, MAX(num) AS maxNum FROM c GROUP BY windowStart)
       SELECT c.auction, c.num, c.windowStart, c.windowEnd FROM c JOIN m ON c.windowStart = m.windowStart AND c.num = m.maxNum`,
  q7: `WITH b AS (SELECT *, dateTime - dateTime % 10000 + 10000 AS windowEnd FROM ${BIDS}),
       m AS (SELECT windowEnd, MAX(price) AS maxPrice FROM b GROUP BY windowEnd)
       SELECT b.auction, b.price, b.bidder, b.dateTime, b.extra, b.windowEnd FROM b JOIN m ON b.windowEnd = m.windowEnd AND b.price = m.maxPrice`,
  q8: `SELECT P.id, P.name, P.windowStart FROM
         (SELECT DISTINCT id, name, dateTime - dateTime % 10000 AS windowStart FROM ${PERSONS}) P
       JOIN (SELECT DISTINCT seller, dateTime - dateTime % 10000 AS windowStart FROM ${AUCTIONS}) A
       ON P.id = A.seller AND P.windowStart = A.windowStart`,
  // A new session starts when a bid comes more than 10 s after the bidder's previous one.
  q11: `WITH o AS (
         SELECT bidder, dateTime,
                CASE WHEN dateTime - LAG(dateTime) OVER (PARTITION BY bidder ORDER BY dateTime) <= 10000 THEN 0 ELSE 1 END AS isNew
         FROM ${BIDS}),
       s AS (SELECT bidder, dateTime, SUM(isNew) OVER (PARTITION BY bidder ORDER BY dateTime ROWS UNBOUNDED PRECEDING) AS session FROM o)
       SELECT bidder, COUNT(*) AS bidCount, MIN(dateTime) AS windowStart, MAX(dateTime) + 10000 AS windowEnd
       FROM s GROUP BY bidder, session`,
});

/** The columns of the `events` table, for `read_json` (every field of every type). */
export const EVENT_COLUMNS: Readonly<Record<string, string>> = Object.freeze({
  type: 'VARCHAR',
  id: 'BIGINT',
  name: 'VARCHAR',
  emailAddress: 'VARCHAR',
  creditCard: 'VARCHAR',
  city: 'VARCHAR',
  state: 'VARCHAR',
  dateTime: 'BIGINT',
  extra: 'VARCHAR',
  itemName: 'VARCHAR',
  description: 'VARCHAR',
  initialBid: 'BIGINT',
  reserve: 'BIGINT',
  expires: 'BIGINT',
  seller: 'BIGINT',
  category: 'BIGINT',
  auction: 'BIGINT',
  bidder: 'BIGINT',
  price: 'BIGINT',
  channel: 'VARCHAR',
  url: 'VARCHAR',
});
