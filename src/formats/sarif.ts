import { EvidentError, assertNoProblems, type ProblemDetail } from '../core/index.js';
import { lineCol } from './junit.js';

// SARIF 2.1.0 (OASIS, https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/sarif-v2.1.0-os.html; "§" below cites
// its sections) from any scanner: Snyk Code and Snyk Open Source, Trivy, Semgrep, CodeQL.
//
// Severity of a result, first rule that applies:
// 1. `properties["security-severity"]` of the result, else of its rule: a CVSS score, read as GitHub code scanning reads it
//    (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning):
//    >= 9.0 critical, >= 7.0 high, >= 4.0 medium, > 0 low, 0 none (Trivy, Snyk Open Source, CodeQL and Semgrep write it).
// 2. A textual `properties.severity` of the result or rule, or the rule's CodeQL `problem.severity`:
//    critical; high; medium/moderate; low; error -> high; warning -> medium; recommendation/note/info -> low.
// 3. A tag that is exactly CRITICAL, HIGH, MEDIUM or LOW (Trivy's rule tags).
// 4. The result's level, by Snyk's own mapping read backwards (Snyk writes critical and high as "error",
//    medium as "warning", low as "note"): error -> high, warning -> medium, note -> low, none -> no severity.

export type SarifLevel = 'error' | 'warning' | 'note' | 'none';
export type SarifSeverity = 'critical' | 'high' | 'medium' | 'low';

export interface SarifTopResult {
  rule_id: string;
  level: SarifLevel;
  message: string;
  /** `uri:line:column` of the first physical location, or '' when the result has none. */
  location: string;
}

export interface SarifReport {
  /** `tool.driver.name` of each run, without duplicates, in order. */
  tools: string[];
  /** Results that count: every result except the suppressed ones. */
  results: number;
  /** Results suppressed in source or externally with an accepted status (§3.27.23, §3.35). */
  suppressed: number;
  by_level: Record<SarifLevel, number>;
  by_severity: Record<SarifSeverity, number>;
  /** Distinct rule ids among the results that count. */
  rules: number;
  /** Most severe first (by severity, then level), at most SARIF_MAX_TOP. */
  top: SarifTopResult[];
}

/** "Non-compliant if any result is at or above this level, or at or above this severity." */
export type SarifThreshold = { level?: 'error' | 'warning' | 'note'; severity?: SarifSeverity };

export const SARIF_MAX_CHARS = 50 * 1024 * 1024;
export const SARIF_MAX_TOP = 50;
const MAX_PROBLEMS = 50;
const MAX_MESSAGE = 500;
const LEVELS: readonly SarifLevel[] = ['error', 'warning', 'note', 'none'];
const SEVERITIES: readonly SarifSeverity[] = ['critical', 'high', 'medium', 'low'];
const KINDS = ['pass', 'open', 'informational', 'notApplicable', 'review', 'fail'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (o: unknown, key: string): unknown => (isObj(o) && Object.hasOwn(o, key) ? o[key] : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const SPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

// Where JSON (RFC 8259) text first goes wrong, for the message: JSON.parse's own messages differ between Node
// versions and not all carry a position. Iterative, so deep nesting cannot overflow the stack.
function locateJsonError(t: string): [number, string] | undefined {
  const stack: string[] = [];
  let i = 0;
  let state: 'value' | 'firstValue' | 'key' | 'firstKey' | 'after' = 'value';
  const bad = (what: string): [number, string] => [i, i >= t.length ? 'unexpected end of input' : what];
  const scanString = (): [number, string] | undefined => {
    for (i++; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) return bad('control character in a string');
      if (c === 0x5c && !/^(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(t.slice(i + 1, i + 6))) return bad('invalid escape in a string');
      if (c === 0x5c) i += t[i + 1] === 'u' ? 5 : 1;
    }
    return bad('unterminated string');
  };
  const skipSpace = (): void => { SPACE.lastIndex = i; SPACE.test(t); i = SPACE.lastIndex; };
  for (;;) {
    skipSpace();
    const c = t[i];
    if ((state === 'firstKey' && c === '}') || (state === 'firstValue' && c === ']')) {
      stack.pop();
      i++;
      state = 'after';
    } else if (state === 'after') {
      const close = stack.at(-1) === '{' ? '}' : ']';
      if (stack.length === 0) return i < t.length ? [i, 'unexpected text after the JSON value'] : undefined;
      if (c === ',') state = close === '}' ? 'key' : 'value';
      else if (c === close) stack.pop();
      else return bad(`expected ',' or '${close}'`);
      i++;
    } else if (state === 'key' || state === 'firstKey') {
      if (c !== '"') return bad('expected a double-quoted property name');
      const e = scanString();
      if (e) return e;
      skipSpace();
      if (t[i] !== ':') return bad("expected ':' after a property name");
      i++;
      state = 'value';
    } else if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      state = c === '{' ? 'firstKey' : 'firstValue';
    } else if (c === '"') {
      const e = scanString();
      if (e) return e;
      state = 'after';
    } else {
      NUMBER.lastIndex = i;
      const literal = ['true', 'false', 'null'].find((w) => t.startsWith(w, i));
      if (literal) i += literal.length;
      else if (NUMBER.test(t)) i = NUMBER.lastIndex;
      else return bad(`unexpected character ${JSON.stringify(c)}`);
      state = 'after';
    }
  }
}

function parseJson(json: string, source: string): unknown {
  const text = json.startsWith('\uFEFF') ? json.slice(1) : json;
  try {
    return JSON.parse(text);
  } catch (err) {
    const [offset, message] = locateJsonError(text) ?? [Number(/position (\d+)/.exec(String(err))?.[1] ?? 0), (err as Error).message];
    const { line, col } = lineCol(text, offset);
    const where = `${source}:${line}:${col}`;
    throw new EvidentError('INVALID_ARGUMENT', `${where}: invalid JSON: ${message}`, { cause: err, details: [{ path: where, message }] });
  }
}

/** Every shape problem with its JSON pointer: §3.13 sarifLog, §3.14 run, §3.18-19 tool, §3.27 result. */
function shapeProblems(log: unknown): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  const add = (path: string, message: string): void => void problems.push({ path, message });
  if (!isObj(log)) return [{ path: '/', message: 'must be a JSON object (a SARIF log)' }];
  if (get(log, 'version') !== '2.1.0') add('/version', `must be "2.1.0" (found ${JSON.stringify(get(log, 'version')) ?? 'nothing'})`);
  const runs = get(log, 'runs');
  if (!Array.isArray(runs)) add('/runs', 'must be an array of runs');
  arr(runs).forEach((run, r) => {
    const at = `/runs/${r}`;
    if (!isObj(run)) return add(at, 'must be an object');
    const driver = get(get(run, 'tool'), 'driver');
    if (!isObj(get(run, 'tool'))) add(`${at}/tool`, 'must be an object');
    else if (!isObj(driver)) add(`${at}/tool/driver`, 'must be an object');
    else if (!str(get(driver, 'name'))) add(`${at}/tool/driver/name`, 'must be a non-empty string');
    if (!(get(driver, 'rules') === undefined || Array.isArray(get(driver, 'rules')))) add(`${at}/tool/driver/rules`, 'must be an array');
    const results = get(run, 'results');
    if (!Array.isArray(results)) add(`${at}/results`, 'must be an array of results');
    arr(results).forEach((result, i) => {
      const rat = `${at}/results/${i}`;
      if (!isObj(result)) return add(rat, 'must be an object');
      const level = get(result, 'level');
      if (level !== undefined && !LEVELS.includes(level as SarifLevel)) add(`${rat}/level`, `must be one of ${LEVELS.join(', ')}`);
      const kind = get(result, 'kind');
      if (kind !== undefined && !KINDS.includes(kind as string)) add(`${rat}/kind`, `must be one of ${KINDS.join(', ')}`);
      const message = get(result, 'message');
      if (!isObj(message) || (str(get(message, 'text')) === undefined && str(get(message, 'id')) === undefined)) {
        add(`${rat}/message`, 'must be an object with "text" or "id"');
      }
      const ruleIndex = get(result, 'ruleIndex');
      if (ruleIndex !== undefined && !(Number.isInteger(ruleIndex) && (ruleIndex as number) >= -1)) add(`${rat}/ruleIndex`, 'must be an integer >= -1');
    });
  });
  const more = problems.length - MAX_PROBLEMS;
  return more > 0 ? [...problems.slice(0, MAX_PROBLEMS), { path: '/', message: `and ${more} more problems` }] : problems;
}

/** The rule a result refers to (§3.27.5-3.27.7, §3.52): by index in the driver or an extension, else by id. */
function ruleOf(run: unknown, result: Obj): Obj | undefined {
  const tool = get(run, 'tool');
  const ref = get(result, 'rule');
  const ext = get(get(ref, 'toolComponent'), 'index');
  const component = typeof ext === 'number' ? arr(get(tool, 'extensions'))[ext] : get(tool, 'driver');
  const index = get(ref, 'index') ?? get(result, 'ruleIndex');
  const byIndex = typeof index === 'number' && index >= 0 ? arr(get(component, 'rules'))[index] : undefined;
  if (isObj(byIndex)) return byIndex;
  const id = str(get(result, 'ruleId')) ?? str(get(ref, 'id'));
  if (id === undefined) return undefined;
  const found = [get(tool, 'driver'), ...arr(get(tool, 'extensions'))].flatMap((c) => arr(get(c, 'rules'))).find((r) => get(r, 'id') === id);
  return isObj(found) ? found : undefined;
}

/** §3.27.10: an absent level is "none" for a kind other than "fail", else the rule's default level, else "warning". */
function levelOf(result: Obj, rule: Obj | undefined): SarifLevel {
  const level = str(get(result, 'level'));
  const kind = str(get(result, 'kind'));
  if (level || (kind !== undefined && kind !== 'fail')) return (level ?? 'none') as SarifLevel;
  const fallback = str(get(get(rule, 'defaultConfiguration'), 'level'));
  return fallback && LEVELS.includes(fallback as SarifLevel) ? (fallback as SarifLevel) : 'warning';
}

const TEXT_SEVERITY = new Map<string, SarifSeverity>(Object.entries({
  critical: 'critical', high: 'high', medium: 'medium', moderate: 'medium', low: 'low',
  error: 'high', warning: 'medium', recommendation: 'low', note: 'low', info: 'low',
}) as [string, SarifSeverity][]);
const LEVEL_SEVERITY: Record<SarifLevel, SarifSeverity | undefined> = { error: 'high', warning: 'medium', note: 'low', none: undefined };

function severityOf(result: Obj, rule: Obj | undefined, level: SarifLevel): SarifSeverity | undefined {
  const props = [get(result, 'properties'), get(rule, 'properties')];
  for (const p of props) {
    const raw = get(p, 'security-severity');
    const score = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (Number.isFinite(score)) return score >= 9 ? 'critical' : score >= 7 ? 'high' : score >= 4 ? 'medium' : score > 0 ? 'low' : undefined;
  }
  for (const raw of [get(props[0], 'severity'), get(props[1], 'severity'), get(props[1], 'problem.severity')]) {
    const mapped = typeof raw === 'string' ? TEXT_SEVERITY.get(raw.trim().toLowerCase()) : undefined;
    if (mapped) return mapped;
  }
  const tag = arr(get(props[1], 'tags')).find((t) => ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'].includes(t as string));
  if (typeof tag === 'string') return tag.toLowerCase() as SarifSeverity;
  return LEVEL_SEVERITY[level];
}

/** §3.27.23, §3.35.3: suppressed when it has a suppression and none is "underReview" or "rejected". */
function isSuppressed(result: Obj): boolean {
  const suppressions = arr(get(result, 'suppressions'));
  return suppressions.length > 0 && suppressions.every((s) => !['underReview', 'rejected'].includes(get(s, 'status') as string));
}

/** §3.11.5: message text, else the rule's message string `message.id`, with `{n}` placeholders filled in. */
function messageOf(result: Obj, rule: Obj | undefined): string {
  const message = get(result, 'message');
  const id = str(get(message, 'id'));
  const template = str(get(message, 'text')) ?? (id ? str(get(get(get(rule, 'messageStrings'), id), 'text')) : undefined) ?? '';
  const args = arr(get(message, 'arguments'));
  const text = template.replace(/\{(\d+)\}/g, (whole, n: string) => (args[Number(n)] === undefined ? whole : String(args[Number(n)])));
  const line = text.split('\n')[0]?.trim() ?? '';
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
}

/** §3.28-3.30: the first physical location as `uri:startLine:startColumn`. */
function locationOf(result: Obj): string {
  const physical = get(arr(get(result, 'locations'))[0], 'physicalLocation');
  const uri = str(get(get(physical, 'artifactLocation'), 'uri'));
  if (uri === undefined) return '';
  const [line, col] = [get(get(physical, 'region'), 'startLine'), get(get(physical, 'region'), 'startColumn')];
  return typeof line === 'number' ? `${uri}:${line}${typeof col === 'number' ? `:${col}` : ''}` : uri;
}

/**
 * Parses a SARIF 2.1.0 log. `source` names the file in messages: JSON syntax errors read
 * `scan.sarif:3:17: invalid JSON: …`; shape problems list each JSON pointer, all of them at once.
 */
export function parseSarif(json: string, source: string): SarifReport {
  const refuse = (message: string) => assertNoProblems([{ path: source, message }], 'SARIF');
  if (typeof json !== 'string') refuse('SARIF must be text');
  if (json.length > SARIF_MAX_CHARS) refuse(`SARIF larger than ${SARIF_MAX_CHARS} characters is refused`);
  const log = parseJson(json, source);
  assertNoProblems(shapeProblems(log), `SARIF in ${source}`);
  const report: SarifReport = {
    tools: [], results: 0, suppressed: 0, by_level: { error: 0, warning: 0, note: 0, none: 0 },
    by_severity: { critical: 0, high: 0, medium: 0, low: 0 }, rules: 0, top: [],
  };
  const ruleIds = new Set<string>();
  const ranked: { rank: number; order: number; top: SarifTopResult }[] = [];
  for (const run of arr(get(log, 'runs'))) {
    const tool = str(get(get(get(run, 'tool'), 'driver'), 'name')) as string;
    if (!report.tools.includes(tool)) report.tools.push(tool);
    for (const result of arr(get(run, 'results')) as Obj[]) {
      if (isSuppressed(result)) {
        report.suppressed++;
        continue;
      }
      const rule = ruleOf(run, result);
      const level = levelOf(result, rule);
      const severity = severityOf(result, rule, level);
      const ruleId = str(get(result, 'ruleId')) ?? str(get(get(result, 'rule'), 'id')) ?? str(get(rule, 'id')) ?? '';
      report.results++;
      report.by_level[level]++;
      if (severity) report.by_severity[severity]++;
      if (ruleId) ruleIds.add(`${tool}\u0000${ruleId}`);
      const rank = (severity ? SEVERITIES.indexOf(severity) : 4) * 4 + LEVELS.indexOf(level);
      ranked.push({ rank, order: ranked.length, top: { rule_id: ruleId, level, message: messageOf(result, rule), location: locationOf(result) } });
    }
  }
  report.rules = ruleIds.size;
  report.top = ranked.sort((a, b) => a.rank - b.rank || a.order - b.order).slice(0, SARIF_MAX_TOP).map((r) => r.top);
  return report;
}

/**
 * Compliance of a scan: non-compliant iff any counted result is at or above the threshold's level or its
 * severity (either one, when both are given). With no threshold: compliant iff no error-level result.
 */
export function sarifCompliant(report: SarifReport, threshold: SarifThreshold = {}): boolean {
  const { level, severity } = threshold;
  const problems: ProblemDetail[] = [];
  if (level !== undefined && !['error', 'warning', 'note'].includes(level)) problems.push({ path: 'level', message: 'must be one of error, warning, note' });
  if (severity !== undefined && !SEVERITIES.includes(severity)) problems.push({ path: 'severity', message: `must be one of ${SEVERITIES.join(', ')}` });
  assertNoProblems(problems, 'SARIF threshold');
  if (level === undefined && severity === undefined) return report.by_level.error === 0;
  const levelHit = level !== undefined && LEVELS.slice(0, LEVELS.indexOf(level) + 1).some((l) => report.by_level[l] > 0);
  const severityHit = severity !== undefined && SEVERITIES.slice(0, SEVERITIES.indexOf(severity) + 1).some((s) => report.by_severity[s] > 0);
  return !levelHit && !severityHit;
}
