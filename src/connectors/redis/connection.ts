// Kept apart from `client.ts` so that the public types do not name the client package's.
import type { Secret } from '../../errors/secret.js';

/** Where Redis is: a `redis://` URL (default `redis://127.0.0.1:6379`). */
export interface RedisConnection {
  /** A URL holding a password may be given by reference: `{ env: 'REDIS_URL' }`, `{ file: '/run/secrets/redis-url' }`. */
  url?: Secret;
}
