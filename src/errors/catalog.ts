/**
 * The one catalog of Sluice error codes. Every {@link SluiceError} carries a code from
 * here; each entry says what went wrong, whose side it is on (`domain`), whether a retry
 * can help (`retry`), and a hint for what to do. `test/errors/catalog.test.ts` checks both
 * directions: every code here is documented and used in `src/` (or marked `reserved`, with
 * the reason), and every code `src/` uses is here.
 *
 * @module
 */

/** What the catalog says about one error code. */
export interface ErrorCodeInfo {
  /** `user`: the job or its input is wrong; `external`: a service or the OS failed; `internal`: a Sluice bug. */
  readonly domain: 'user' | 'external' | 'internal';
  /** `backoff`: the same action may succeed later; `none`: it will fail again until something changes. */
  readonly retry: 'none' | 'backoff';
  /** What the code means, in one or two sentences. */
  readonly description: string;
  /** What the reader should do about it. */
  readonly hint: string;
  /** Set when nothing in Sluice throws the code (yet, or any more): why it is in the catalog. */
  readonly reserved?: string;
}

/**
 * Every error code of Sluice with its {@link ErrorCodeInfo}: what it means, whose side it
 * is on, whether a retry can help, and what to do.
 *
 * @example
 * ERROR_CATALOG.MISSING_UID.domain === 'user';
 * ERROR_CATALOG[error.code].description; // for a SluiceError `error`
 */
export const ERROR_CATALOG = {
  INVALID_DURATION: {
    domain: 'user',
    retry: 'none',
    description: 'A duration was negative, not finite, or a string that is not a duration.',
    hint: "Write durations as non-negative milliseconds or as strings such as '250ms', '5s', '1m', '2h', '1d'.",
  },
  INVALID_ARGUMENT: {
    domain: 'user',
    retry: 'none',
    description: 'An option given to a builder, source or sink is out of range or of the wrong kind.',
    hint: 'Read the message for the option and the accepted values, and fix the job definition.',
  },
  MISSING_UID: {
    domain: 'user',
    retry: 'none',
    description: 'A stateful step has no uid. The uid names its state in checkpoints and savepoints, its metrics and its errors.',
    hint: "Give the step a stable, unique uid: `.process(fn, { uid: 'count-per-user' })`. Never change it once state exists.",
  },
  DUPLICATE_UID: {
    domain: 'user',
    retry: 'none',
    description: 'Two steps of one job share a uid, so their state would be mixed up.',
    hint: 'Give every step its own uid.',
  },
  INVALID_JOB: {
    domain: 'user',
    retry: 'none',
    description: 'The job graph is not runnable: no source, no sink, a stream consumed by nothing that must be, or a cycle.',
    hint: 'Read the message for the step concerned; every source must lead to a sink.',
  },
  JOB_ALREADY_STARTED: {
    domain: 'user',
    retry: 'none',
    description: 'A job was changed or run after it had been started. A Job runs once.',
    hint: 'Build a new Job for each run.',
  },
  JOB_NOT_RUNNING: {
    domain: 'user',
    retry: 'none',
    description: 'An operation that needs a running job (a savepoint, a cancel) was asked of a job that has ended.',
    hint: "Check the job's status with `sluice status`; start it again with `sluice run` if needed.",
  },
  SERVER_UNAVAILABLE: {
    domain: 'external',
    retry: 'backoff',
    description: "The REST server of a job could not be reached, or answered with an error (`sluice list`, `status`, `cancel`, `savepoint`, `logs`).",
    hint: 'Check that the job runs and which port it serves on (`sluice list`), or pass --url http://127.0.0.1:PORT.',
  },
  NOT_FOUND: {
    domain: 'user',
    retry: 'none',
    description: 'The REST API of a job has no such route, or serves another job than the one named in the path (HTTP 404).',
    hint: '`GET /jobs` on the server lists the job it runs; `sluice list` finds the servers. The routes are in the README (Operating, REST API).',
  },
  HOST_NOT_ALLOWED: {
    domain: 'user',
    retry: 'none',
    description:
      "A request to a job's REST API named a host (its `Host` header) that the server is not bound to: a page on another site reaching the server through DNS rebinding looks so (HTTP 421).",
    hint: "Call the server by the address it listens on (127.0.0.1, localhost or [::1] when bound to loopback); a server bound to another address answers to the names given with `--allowed-host` (`server: { allowedHosts: [...] }`).",
  },
  CROSS_ORIGIN_REFUSED: {
    domain: 'user',
    retry: 'none',
    description: "A state-changing request (a savepoint, a cancel, a stop) came from a web page of another origin (its `Origin` header is not the server's own): a cross-site request forgery looks so (HTTP 403).",
    hint: "Send control requests from the CLI or a script (no Origin header), or from the job's own dashboard.",
  },
  UNSUPPORTED_CONTENT_TYPE: {
    domain: 'user',
    retry: 'none',
    description:
      "A state-changing request to a job's REST API was not sent as `application/json`: a browser's cross-site form post (`text/plain`, `application/x-www-form-urlencoded`, `multipart/form-data`) looks so (HTTP 415).",
    hint: 'Send a JSON body (`{}` when there is nothing to say) with `Content-Type: application/json`, as `sluice savepoint`, `cancel` and `stop` do.',
  },
  SAVEPOINT_PATH_REFUSED: {
    domain: 'user',
    retry: 'none',
    description:
      "A savepoint path given through the REST API (or `sluice savepoint`/`cancel`/`upgrade --path`) lies outside the job's savepoint directory, or names a checkpoint directory or another job's directory (HTTP 400).",
    hint: "Give a name inside the job's savepoint directory (`.sluice/savepoints/<job>/` by default; a relative path resolves there), or set the directory with the job's `checkpoints: { savepointDir }` option.",
  },
  INSECURE_BIND: {
    domain: 'user',
    retry: 'none',
    description: "A job's REST API was asked to listen on an address other than loopback without authentication (no tokens file, tokens or JWKS in `server.auth`), which would let anyone on the network savepoint or cancel the job.",
    hint: 'Configure bearer tokens (`--tokens-file`, `--jwks-url`; `server: { auth }`), or serve on 127.0.0.1 (the default) behind an SSH tunnel, or pass --insecure (`server: { insecure: true }`) to accept an open API.',
  },
  UNAUTHENTICATED: {
    domain: 'user',
    retry: 'none',
    description: "A request to a job's REST API that needs a bearer token came without one, or with one the server does not know, or a JWT that is expired, badly signed or for another issuer or audience (HTTP 401). Every refusal is in the audit log.",
    hint: 'Send `Authorization: Bearer <token>`: with the CLI, `--token`, `SLUICE_TOKEN` or `--token-file`; in the dashboard, open it as `/#token=<token>`.',
  },
  ACCESS_DENIED: {
    domain: 'user',
    retry: 'none',
    description: "A caller's token is valid but its roles are below what the request needs (viewer reads, operator savepoints, stops, cancels and forgets, admin configures), or the server's attribute policy denies it on this job (HTTP 403). Every refusal is in the audit log.",
    hint: 'Ask for a token with the role the action needs, or for a policy rule that allows it; the message names the role or the rule.',
  },
  AUTH_CONFIG_INVALID: {
    domain: 'user',
    retry: 'none',
    description: "The server's authentication settings are wrong: a tokens file that cannot be read or is not `{ tokens: [...] }`, an entry without subject, token or role, a JWKS URL that is not a URL, or a policy of the wrong shape or naming an unknown action.",
    hint: 'Fix the file or option the message names; `server.auth` in the README (Operating, Security) shows each shape.',
  },
  SECRET_UNRESOLVED: {
    domain: 'user',
    retry: 'none',
    description: 'A secret reference in options (`{ env: NAME }`, `{ file: PATH }`) could not be resolved when the connector or server opened: the variable is unset or empty, or the file cannot be read or is empty.',
    hint: 'Set the environment variable or mount the file the message names (its value is never shown).',
  },
  PRIVACY_CONFIG_INVALID: {
    domain: 'user',
    retry: 'none',
    description: 'A personal-data operator (`mask`, `tokenize`, `encryptFields`) was built wrong: no fields, an unknown masking method, a keyed hash without a key, a master key that is not 32 bytes, or a field that is missing from a record where it must be.',
    hint: 'Fix the operator\'s options as the message says; see the README (Personal data).',
  },
  SUBJECT_FORGOTTEN: {
    domain: 'user',
    retry: 'none',
    description: "`decryptFields` met a value encrypted for a subject whose data key was deleted by `forget(subject)` (crypto-shredding): it can never be read again. With `onError: 'dead-letter'` the record goes to the dead letters (its encrypted fields stay encrypted).",
    hint: 'Nothing to recover, by design. Filter such records out, or let them go to the dead letters.',
  },
  TOKEN_UNKNOWN: {
    domain: 'user',
    retry: 'none',
    description: '`detokenize` met a token its vault does not hold: it was made by another vault or key, or the value was forgotten.',
    hint: 'Detokenize with the vault (and key) the tokens were made with.',
  },
  KEY_INVALID: {
    domain: 'user',
    retry: 'none',
    description: 'A key selector returned something that is not a key (undefined, null, NaN, an object).',
    hint: 'A key must be a string, a finite number or a bigint. Make the key selector total over your records, or filter out records without a key first.',
  },
  USER_FUNCTION_FAILED: {
    domain: 'user',
    retry: 'none',
    description: "A user function (map, filter, process, a key selector, a sink's write…) threw while handling a record.",
    hint: "Fix the function, or route failures to a dead-letter output with `{ onError: 'dead-letter' }` and consume `job.deadLetters()`.",
  },
  ASYNC_TIMEOUT: {
    domain: 'external',
    retry: 'backoff',
    description: "An attempt of an async step's function (asyncMap, asyncProcess, a lookup) did not settle within the step's `timeout`.",
    hint: 'Raise the step\'s `timeout`, give it a `retry` policy (a timeout is retried like any error unless `retryOn` refuses it), or look at the service it calls.',
  },
  ASYNC_RETRIES_EXHAUSTED: {
    domain: 'external',
    retry: 'backoff',
    description: "An async step's function failed on a record at every attempt its retry policy allowed; the message shows the last failure.",
    hint: "Look at the last failure and the service it calls; allow more attempts or longer pauses in the step's `retry`, or route such records to dead letters with `{ onError: 'dead-letter' }`.",
  },
  CIRCUIT_OPEN: {
    domain: 'external',
    retry: 'backoff',
    description: "A call to a dependency was refused at once because the dependency's circuit breaker is open: its last calls failed in a row.",
    hint: "Look at the service the dependency names; the breaker lets a probe through after `halfOpenAfter`. Give the step a `fallback` (async steps) or `whenUnavailable` (lookup joins: stale entries, a degraded marker), or dead letters, to go on meanwhile.",
  },
  BULKHEAD_FULL: {
    domain: 'external',
    retry: 'backoff',
    description: "A call to a dependency was refused because its bulkhead had no free slot and no room in its queue.",
    hint: "Raise the dependency's `bulkhead.maxConcurrent` or `maxQueued`, or lower the `capacity` of the steps that share it.",
  },
  LOOKUP_FAILED: {
    domain: 'external',
    retry: 'backoff',
    description: "A lookup join's table could not be read: the database refused the query, or the HTTP service answered with an error or with something that is not JSON.",
    hint: "Check the table's service and the lookup's options (table, columns, URL); the step's `retry` policy asks again, and its `onError` decides what happens to the record after the last attempt.",
  },
  LOOKUP_MISS: {
    domain: 'user',
    retry: 'none',
    description: "A lookup join's table has no value for a record's key (under `onMiss: 'dead-letter'`, or under `'wait'` after the last attempt).",
    hint: "Check that the table holds the key, choose `onMiss: 'null'` to join with null, or allow more attempts with the step's `retry` under `'wait'`.",
  },
  STATE_OUTSIDE_KEY: {
    domain: 'user',
    retry: 'none',
    description: 'Keyed state or a timer was used where there is no current key (in open(), or on a stream that is not keyed).',
    hint: 'Use keyed state and timers only inside processElement/onTimer of a step after keyBy.',
  },
  STATE_ALREADY_DECLARED: {
    domain: 'user',
    retry: 'none',
    description: 'A step declared two states with the same name but different kinds or options.',
    hint: 'Give each state of a step its own name.',
  },
  SCHEMA_INCOMPATIBLE: {
    domain: 'user',
    retry: 'none',
    description: "A schema is not compatible with the versions a schema registry holds under its subject, at the subject's compatibility level: the registry refused to register it, or `sluice schema check` found it so.",
    hint: "Make the change compatible (Avro: give new fields defaults, remove only fields that have defaults, widen types only by promotions), or change the subject's compatibility level on purpose.",
  },
  STATE_INCOMPATIBLE: {
    domain: 'user',
    retry: 'none',
    description:
      'Restored state does not fit the job: a state now declared with another kind (value, list, map, reducing, aggregating) than it was checkpointed with, or a checkpoint taken with another max parallelism.',
    hint: 'Keep state names, kinds and the max parallelism stable across versions of a job; give a changed state a new name (its old contents are then dropped).',
  },
  STATE_NOT_SERIALIZABLE: {
    domain: 'user',
    retry: 'none',
    description: 'A state value could not be copied into a snapshot (it holds a function, a symbol, or an object the structured clone algorithm refuses).',
    hint: 'Keep plain data in state: objects, arrays, strings, numbers, bigints, booleans, null, Map, Set, Date.',
  },
  STATE_IO_FAILED: {
    domain: 'external',
    retry: 'backoff',
    description: 'The on-disk state backend could not read or write its files (permissions, a closed backend, a corrupt record; a full disk is STORAGE_FULL). After a failed write the backend refuses all further use: the attempt fails and restarts from its checkpoint.',
    hint: "Check free space and permissions under the backend's path; a job restarted from its last checkpoint recovers the state.",
  },
  BROADCAST_STATE_READ_ONLY: {
    domain: 'user',
    retry: 'none',
    description:
      'Broadcast state was changed from processElement or onTimer. Only processBroadcastElement may change it: it runs on every parallel instance for every broadcast record, which keeps their broadcast state the same.',
    hint: 'Change broadcast state in processBroadcastElement; in processElement and onTimer read it (get, contains, entries, keys, values).',
  },
  BROADCAST_STATE_UNDECLARED: {
    domain: 'user',
    retry: 'none',
    description: 'A broadcast step asked for broadcast state whose descriptor was not given to the `broadcast(…)` call of the stream it is connected to.',
    hint: 'Pass every map state descriptor the function reads to `stream.broadcast(descriptor, …)`; they are matched by name.',
  },
  PATTERN_INVALID: {
    domain: 'user',
    retry: 'none',
    description: 'A CEP pattern cannot be built or run as written: a duplicate stage name, a quantifier where none applies, a negative stage after an optional one, a trailing notFollowedBy without within, a skip strategy naming no stage.',
    hint: 'Read the message for the stage named; Flink CEP documents the same rules for its Pattern API.',
  },
  EXPRESSION_INVALID: {
    domain: 'user',
    retry: 'none',
    description: 'A condition of a pattern written as data is not an expression of the pattern expression language: a syntax error, an unknown function, a wrong number of arguments, or a `$name` that names no stage.',
    hint: 'The message gives the JSON path, the column and a caret under the place; the grammar and the functions are listed in src/cep/expression.ts.',
  },
  EXPRESSION_FAILED: {
    domain: 'user',
    retry: 'none',
    description: 'A pattern condition met values it cannot work on while testing an event: arithmetic or ordering between a number and a string, a list where a number was expected.',
    hint: 'The event goes to the step\'s error policy (dead letters). Check the field types the rule assumes; a missing field is null and does not fail.',
  },
  PATTERN_UPDATE_REFUSED: {
    domain: 'user',
    retry: 'none',
    description: 'A pattern update on the broadcast stream of dynamic patterns cannot apply: not an update object, an add of an id already active, a replace or remove of an id not active, or an invalid pattern.',
    hint: 'The update goes to the step\'s error policy (dead letters) and the active patterns stay as they were. Send `{ op: "add" | "replace", id, pattern }` or `{ op: "remove", id }`.',
  },
  NO_TIMESTAMP: {
    domain: 'user',
    retry: 'none',
    description: 'An event-time step (an event-time window, an interval join) got a record that has no event timestamp.',
    hint: 'Give the source a watermark strategy with a timestamp assigner (`job.source(src, { uid, watermarks })`), or use processing-time windows.',
  },
  CHECKPOINT_INVALID: {
    domain: 'user',
    retry: 'none',
    description: 'A checkpoint or savepoint could not be read: missing, unfinished, of an unknown format, or not matching the job.',
    hint: 'Point --from-savepoint (or --from-checkpoint) at a directory with a _manifest.json written by Sluice. Do not delete a checkpoint directory to get past this: it is the evidence of what the sinks have committed.',
  },
  CHECKPOINT_CORRUPT: {
    domain: 'external',
    retry: 'none',
    description:
      "A checkpoint or savepoint is damaged: a file it lists is missing, truncated or does not match its checksum, or its manifest is missing or does not verify. A damaged checkpoint is never restored. When it is the job's latest and the sinks may already have committed output after the newest intact one, the job refuses to start rather than write that output twice.",
    hint: 'Read the message for the checkpoint and what it would repeat. To resume anyway from an earlier checkpoint, accepting that output may be written twice: `sluice run job.ts --from-checkpoint <id|path>` (`--from-checkpoint none` starts from the beginning), or `start({ fromCheckpoint })`. The damaged directory is kept under quarantine/ for inspection.',
  },
  STORAGE_FULL: {
    domain: 'external',
    retry: 'backoff',
    description:
      "A disk Sluice writes to has no space left (ENOSPC) or its quota is used up (EDQUOT). Checkpoint storage: the job goes on and checkpoints are retried with growing pauses; a final checkpoint is retried up to the checkpoint timeout, then the attempt fails and the checkpoints are kept. The HTTP source's durable log: the request is answered 503, nothing of it is accepted, and the log backs off before it tries the disk again (records answered 202 before are safe). The on-disk state backend: the attempt fails (the record is not dead-lettered) and, when the restart policy allows restarts, restarts from the latest checkpoint after growing pauses that the policy does not count; the job is degraded meanwhile.",
    hint: 'Free space on that file system or give it more (for checkpoints: point checkpoints.dir at a larger one); `sluice_checkpoint_storage_failures_total` counts checkpoint storage failures, `sluice_storage_full_restarts_total` attempts restarted after one.',
  },
  CHECKPOINT_FAILED: {
    domain: 'external',
    retry: 'backoff',
    description: 'A checkpoint could not complete: it timed out, a task declined it, or its storage failed.',
    hint: 'The job goes on and tries again at the next interval; check the storage and the checkpoint timeout if it keeps failing.',
  },
  STATE_NOT_RESTORED: {
    domain: 'user',
    retry: 'none',
    description: 'A savepoint holds state for a step uid that the job no longer has, so that state would be lost.',
    hint: 'Pass --allow-non-restored-state (or allowNonRestoredState: true) if dropping it is intended; otherwise restore the step with its old uid.',
  },
  WORKER_FAILED: {
    domain: 'internal',
    retry: 'backoff',
    description: 'A worker thread of a parallel run stopped before its subtasks ended: it could not load the job module, or ran out of memory, or crashed.',
    hint: 'Read the error logged before it; the job restarts from its last checkpoint under its restart policy.',
  },
  STEP_STUCK: {
    domain: 'user',
    retry: 'backoff',
    description:
      "A step's function has not returned for longer than the job's `stuckAfter` (an endless loop, or synchronous work far too long for one call): in a worker thread the watchdog terminated the thread; on the main thread, which nothing can interrupt, the attempt fails once the call returns (or the process exits, with `onStuck: 'exit'`).",
    hint: "Fix the step's function for the record it was handling (the log line `step_stuck` names the step and what it was given); with parallelism 2 or more the watchdog can stop it in its worker thread, and the job restarts from its last checkpoint. Raise `stuckAfter` if such calls are expected to take that long.",
  },
  WORKER_JOB_MISMATCH: {
    domain: 'user',
    retry: 'none',
    description: "A worker thread built a different job from the job module than the main thread has: the module's default export must build the same steps every time.",
    hint: 'Build the job deterministically from the module (no random uids, no steps that depend on the time or on state outside the module).',
  },
  STATE_RESCALE_UNSUPPORTED: {
    domain: 'user',
    retry: 'none',
    description: 'A checkpoint or savepoint was taken with another parallelism for a step whose state cannot be split or merged (operator state such as a parallel reader position).',
    hint: 'Restore with the parallelism the step had; keyed state redistributes by key group, other state does not.',
  },
  DELIVERY_UNSUPPORTED: {
    domain: 'user',
    retry: 'none',
    description: 'The job asks for a delivery guarantee that one of its sinks, or its checkpoint settings, cannot keep.',
    hint: "Use a sink that supports the guarantee (e.g. the transactional file sink for exactly-once), turn on checkpoints, or choose 'at-least-once'.",
  },
  SOURCE_FAILED: {
    domain: 'external',
    retry: 'backoff',
    description: 'A source could not read: a file vanished, a socket closed, a service answered with an error.',
    hint: 'Check that the medium the source reads is reachable; the detail holds the underlying error.',
  },
  INGEST_LOG_FAILED: {
    domain: 'external',
    retry: 'backoff',
    description:
      "The HTTP source's durable log could not write or fsync a request's records (an I/O error, a short write, a closed log). The request was answered 503 and none of its records was accepted; bytes of it that reached the file were truncated away.",
    hint: "Check the disk under the source's `durableLog` directory (`dmesg`, permissions). Clients retry after Retry-After; records answered 202 before are safe.",
  },
  INGEST_LOG_TORN: {
    domain: 'external',
    retry: 'none',
    description:
      "On open, the HTTP source's durable log ended in a torn record: a last line without its newline, or one that does not parse, left by a crash or a full disk in the middle of a write. It was truncated away (a process warning says how many bytes); it belonged to a request that was never answered 202.",
    hint: 'Nothing to do after a crash or a full disk. If it happens without either, check the disk.',
  },
  SINK_FAILED: {
    domain: 'external',
    retry: 'backoff',
    description: 'A sink could not write its records.',
    hint: 'Check that the destination is reachable and writable; the detail holds the underlying error.',
  },
  BROKER_UNAVAILABLE: {
    domain: 'external',
    retry: 'backoff',
    description:
      "A connector could not reach its message broker for longer than it is allowed to wait (the Kafka connectors' `brokerUnavailableTimeout`, 2 minutes by default). Shorter outages, such as a broker restart, are ridden out: the connector reconnects with backoff and the job goes on without a restart. Also `sluice cluster status` (`clusterStatus`) when the brokers it was given cannot be reached or fail its requests (it retries once).",
    hint: 'Check that the brokers named in the message run and are reachable from this machine (the detail holds the last client error); raise `brokerUnavailableTimeout` if outages this long are expected.',
  },
  CONNECTOR_TLS: {
    domain: 'user',
    retry: 'none',
    description:
      "A TLS handshake of a connector, or of the schema registry client, failed: the server's certificate is signed by a CA the client does not trust (unknown CA), names another host, has expired or is not valid yet, or the server refused the handshake (it wants a client certificate, or does not speak TLS on that port). Raised when the connector opens, without retrying: retrying cannot fix a certificate.",
    hint: "Check the connector's `tls` option: `ca` must hold the CA that signed the server's certificate, the address (or `tls.servername`) must be a name in the certificate, the server's certificate must be in date; for mutual TLS give `cert` and `key`. The message says which check failed.",
  },
  CONNECTOR_AUTH: {
    domain: 'user',
    retry: 'none',
    description:
      'A connector could not authenticate to its service: the server refused the SASL credentials (a wrong user name or password, a mechanism the server does not enable, an invalid OAUTHBEARER token), the schema registry answered 401 or 403, or NATS, Redis, PostgreSQL or the MQTT broker refused the user and password, token, NKEY or (PostgreSQL `cert` users) the missing client certificate. Raised when the connector opens, without retrying.',
    hint: "Check the connector's `sasl` (mechanism, username, password), the registry's `auth`, or the user, password, token or key options of NATS, Redis, PostgreSQL and MQTT; a secret reference ({ env } / { file }) must hold the current password. The password itself is never shown.",
  },
  BAD_RECORD: {
    domain: 'user',
    retry: 'none',
    description: 'An input record could not be parsed or failed validation.',
    hint: 'Fix the producer, or let the source dead-letter bad records instead of failing.',
  },
  RECORD_NOT_TRANSFERABLE: {
    domain: 'user',
    retry: 'none',
    description: 'A record had to cross to another thread (a step runs in parallel) and holds what cannot be copied there: a function, a symbol, or a cycle.',
    hint: 'Records that cross threads are copied, not shared: keep them to data (objects, arrays, strings, numbers, bigints, Dates, Maps, Sets). Map the function or symbol away before the exchange, or break the cycle.',
  },
  JOB_RESTARTS_EXHAUSTED: {
    domain: 'user',
    retry: 'none',
    description: 'The job kept failing and its restart policy gave up. The message holds the last failure.',
    hint: 'Fix the cause shown in the message; raise the restart attempts only if the failure is transient.',
  },
  JOB_CANCELLED: {
    domain: 'user',
    retry: 'none',
    description: 'The job was cancelled before it finished.',
    hint: 'Nothing to fix: a cancelled job stops without firing pending event-time timers.',
    reserved:
      "Nothing throws it: a cancel is not a failure in Sluice. A cancelled job's `done` resolves with `{ status: 'cancelled' }` and `sluice run` exits 0 (Flink instead fails `execute()` with a JobCancellationException), and the REST API answers a call on an ended job with JOB_NOT_RUNNING. Kept so that code matching on it still compiles.",
  },
  JOB_FILE_INVALID: {
    domain: 'user',
    retry: 'none',
    description: '`sluice run` loaded a file whose default export is not a Job (or a function returning one).',
    hint: 'End the job file with `export default job;` where `job` is a `new Job(...)` with its sources and sinks.',
  },
  DEPENDENCY_MISSING: {
    domain: 'user',
    retry: 'none',
    description: 'A connector, format or tool needs a package that is not installed: the clients of brokers and databases are optional peer dependencies, installed only by projects that use them.',
    hint: 'Install the package the message names (`npm install <package>`) in the project that runs the job.',
  },
  CLUSTER_TOPIC_MISMATCH: {
    domain: 'user',
    retry: 'none',
    description: "An internal topic of a cluster (`<cluster>-<uid>-repartition`, `-changelog` or `<cluster>-meta`) exists with another partition count, replication factor or cleanup policy than the job needs, so keys and state would land in the wrong partitions.",
    hint: 'Delete the internal topics of the cluster (with its state) or start the job under a new cluster name; changing the partition count of a cluster is a savepoint and a restart under a new name.',
  },
  CLUSTER_JOB_MISMATCH: {
    domain: 'user',
    retry: 'none',
    description: 'A member started under a cluster name that already runs a different job (another graph fingerprint in `<cluster>-meta`), or the same job on a Sluice whose internal topics hold records of another layout: their records and state would be mixed or misread.',
    hint: 'Give each job its own cluster name, or stop the old job and delete its internal topics before reusing the name. A Sluice upgrade that changes the layout of internal topics is a stop of every member and a start under a new cluster name (the release notes say when).',
  },
  CLUSTER_NOT_FOUND: {
    domain: 'user',
    retry: 'none',
    description: "`sluice cluster status` (`clusterStatus`) found no cluster of that name on the brokers: no topic `<cluster>-meta` (a cluster's first member creates it) and no consumer group of that name whose members run Sluice's protocol.",
    hint: 'Check the name (the `--cluster NAME` the members run with) and the brokers (`--kafka`): the detail lists the clusters these brokers have.',
  },
  CLUSTER_REBALANCE: {
    domain: 'external',
    retry: 'backoff',
    description: "The cluster's consumer group moved partitions of this member (a member joined, left or died). The member's running attempt ends: its open transaction is aborted, and it restarts at once on its new partitions, restoring their state from the changelog topics. Not counted by the restart policy.",
    hint: 'Nothing to do: it is how a cluster moves work. Frequent rebalances mean members that come and go; give them static membership (`--member NAME`) so that a restart within the session timeout moves nothing.',
  },
  CLUSTER_UNSUPPORTED: {
    domain: 'user',
    retry: 'none',
    description: 'The job uses something cluster mode cannot run yet: state that is not keyed (a cluster keeps state per task, by key group), a broadcast stream, a savepoint of one member, or an exactly-once sink other than Kafka.',
    hint: 'Key the stream before stateful steps, write exactly-once output to Kafka (or use at-least-once with an idempotent sink), or run the job without --cluster.',
  },
  INTERNAL: {
    domain: 'internal',
    retry: 'none',
    description: 'Sluice reached a state it believed impossible.',
    hint: 'This is a bug in Sluice: please report it with the message and detail.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** The code of a {@link SluiceError}: one of the keys of {@link ERROR_CATALOG}. */
export type ErrorCode = keyof typeof ERROR_CATALOG;
