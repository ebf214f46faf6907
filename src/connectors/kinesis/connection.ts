// Kept apart from `client.ts` so that the public types do not name the client package's.

/** Where Kinesis is: a region, and for a local server (kinesalite) its endpoint. */
export interface KinesisConnectionOptions {
  /** The AWS region (default `AWS_REGION`, else `us-east-1`). */
  region?: string;
  /** Another endpoint than AWS's (a local Kinesis-compatible server: `http://127.0.0.1:4567`). */
  endpoint?: string;
  /**
   * More configuration of the SDK's `KinesisClient` (credentials, `requestHandler`, retries).
   * Credentials come from the SDK's default chain when not given. A local server without
   * HTTP/2 (kinesalite) needs `requestHandler: new NodeHttpHandler()` from `@smithy/node-http-handler`.
   */
  clientConfig?: Record<string, unknown>;
}
