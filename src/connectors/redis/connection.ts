// Kept apart from `client.ts` so that the public types do not name the client package's.

/** Where Redis is: a `redis://` URL (default `redis://127.0.0.1:6379`). */
export interface RedisConnection {
  url?: string;
}
