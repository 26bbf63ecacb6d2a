import { createHash } from 'node:crypto';

// `${VAR}` in attest.yaml `env:` values (issue 14 finding 4; docs/runner.md "Environment"): expanded from
// the process environment when a run starts, so `GREETING: "${GREETING}"` passes the caller's value and
// keys it (the expanded value is what the step sees, so it is what the key holds). `${VAR:-default}` gives
// a default when VAR is unset or empty; `$$` is a literal `$`; any other `$` is kept as it is.

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{/g;

/** The problem with `${...}` in `value`, if any (a `${` that is not `${NAME}` or `${NAME:-default}`). */
export function envValueProblem(value: string): string | undefined {
  for (const m of value.matchAll(REFERENCE)) {
    if (m[0] === '${') return `"${value}": "\${" must be \${NAME} or \${NAME:-default} (write $\${ for a literal)`;
  }
  return undefined;
}

/** The names `value` refers to. */
export function envReferences(value: string): string[] {
  return [...value.matchAll(REFERENCE)].flatMap((m) => (m[1] === undefined ? [] : [m[1]]));
}

export function expandEnvValue(value: string, env: NodeJS.ProcessEnv): string {
  if (!value.includes('$')) return value;
  return value.replace(REFERENCE, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$$') return '$';
    if (name === undefined) return whole;
    const got = env[name];
    return got === undefined || (got === '' && fallback !== undefined) ? (fallback ?? '') : got;
  });
}

/**
 * How a `pass_env` variable enters the cache key and the records: by digest, not value (it may be a
 * token), and `unset` when it is not set, so that unset and empty differ.
 */
export function passEnvDigest(value: string | undefined): string {
  return value === undefined ? 'unset' : `sha256:${createHash('sha256').update(value).digest('hex')}`;
}
