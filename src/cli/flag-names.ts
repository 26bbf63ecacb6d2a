// How a flag is named in the environment (flag-table.ts): its own module, without commander, so that the
// commander-free fast path (quick-parse.ts) reads the same variables by the same rule.

/** `--flow` → `FLOW`, `--api-token` → `API_TOKEN`: the suffix of EVIDENT_<NAME> and KOSLI_<NAME>. */
export function envSuffix(long: string): string {
  return long.replace(/^--/, '').toUpperCase().replace(/-/g, '_');
}

/** The variable that sets a flag: EVIDENT_<NAME> if set, else KOSLI_<NAME> if set (empty counts as unset). */
export function envVarFor(long: string, env: NodeJS.ProcessEnv): string | undefined {
  const suffix = envSuffix(long);
  for (const name of [`EVIDENT_${suffix}`, `KOSLI_${suffix}`]) if (env[name]) return name;
  return undefined;
}

/** A boolean flag's value from text (a variable, a config file): true, 1 or yes, in any case. */
export function isTrue(value: string | undefined): boolean {
  return ['true', '1', 'yes'].includes((value ?? '').toLowerCase());
}
