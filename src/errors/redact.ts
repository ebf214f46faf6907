/** What a redacted secret is shown as. */
export const REDACTED = '***';

/** The password of a URL's userinfo: `redis://user:secret@host` (the user name stays). */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):([^\s/]*)@/gi;

/**
 * A field whose name says it holds a secret (it contains password, secret, token,
 * credentials, sasl or key), then `=` or `:` and its value: `password=hunter2`,
 * `apiKey: abc`, a URL's `?token=abc`.
 */
const SECRET_FIELD = /\b([\w.-]*(?:password|passwd|pwd|secret|token|credentials?|sasl|key)[\w.-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&)}\]]+)/gi;

/**
 * Hides the secrets in a text that renders options (a connector's description in
 * `explain()` and the REST job view): the password of every URL's userinfo, and the value
 * of every field named like a secret. Everything else is left as it was.
 *
 * @example
 * redactSecrets('redis hash upserts (redis://app:s3cret@cache:6379)'); // 'redis hash upserts (redis://app:***@cache:6379)'
 * redactSecrets('host=db user=app password=s3cret'); // 'host=db user=app password=***'
 */
export function redactSecrets(text: string): string {
  return text.replace(URL_PASSWORD, `$1:${REDACTED}@`).replace(SECRET_FIELD, (_all, name: string, sep: string) => `${name}${sep}${REDACTED}`);
}
