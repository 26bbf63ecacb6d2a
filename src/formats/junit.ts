import type { XMLParser } from 'fast-xml-parser';
import { EvidentError, xmlLib } from '../core/index.js';

// JUnit XML as real tools write it. There is no single standard; the dialects read here are
// - Maven Surefire / Failsafe: one `<testsuite>` root per class, `<properties>`, and the rerun elements
//   `<flakyFailure>`/`<flakyError>`/`<rerunFailure>`/`<rerunError>`
//   (https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd);
// - Apache Ant's `<testsuites>` wrapper (https://llg.cubic.org/docs/junit/), which pytest (`--junitxml`,
//   https://docs.pytest.org/en/stable/how-to/output.html), jest-junit (https://github.com/jest-community/jest-junit),
//   vitest (`--reporter=junit`, https://vitest.dev/guide/reporters), go-junit-report
//   (https://github.com/jstemmer/go-junit-report) and the JUnit 5 console launcher's legacy report
//   (https://junit.org/junit5/docs/current/user-guide/#junit-platform-reporting-legacy-xml) all write.
// Counts come from the `<testcase>` elements themselves; a suite's own `tests`/`failures`/... attributes are
// used only for a suite with no `<testcase>` (some tools write summaries only).

export interface JUnitTotals {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  duration_secs: number;
}

export interface JUnitSuite extends JUnitTotals {
  name: string;
  timestamp?: string;
}

export interface JUnitFailedCase {
  suite: string;
  classname: string;
  name: string;
  message: string;
  /** The `type` attribute (usually the exception class), else `failure` or `error`. */
  type: string;
}

export interface JUnitReport {
  suites: JUnitSuite[];
  totals: JUnitTotals;
  /** In document order, at most JUNIT_MAX_FAILED_CASES. */
  failed_cases: JUnitFailedCase[];
}

/** Inputs longer than this many characters are refused before any parsing. */
export const JUNIT_MAX_CHARS = 50 * 1024 * 1024;
/** Elements nested deeper than this are refused (real reports nest 4 or 5 deep). */
export const JUNIT_MAX_DEPTH = 64;
export const JUNIT_MAX_FAILED_CASES = 100;
const MAX_MESSAGE = 1000;

type XmlNode = Record<string, unknown>;

// Element names we read keep their names; every other element is renamed with a `~` prefix, so that no
// element name (`constructor`, `__proto__`) can reach the parser's object keys. Attributes carry an `@` prefix.
const KNOWN_TAGS = new Set(['testsuites', 'testsuite', 'testcase', 'failure', 'error', 'skipped', 'ignored']);

let parserInstance: XMLParser | undefined;
const parser = (): XMLParser =>
  (parserInstance ??= new (xmlLib().XMLParser)({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  // No entity expansion at all: DOCTYPE-declared entities are never expanded (so no "billion laughs"); the
  // five predefined entities and character references are decoded by `decode` below.
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  removeNSPrefix: true,
  alwaysCreateTextNode: true,
  cdataPropName: '#cdata',
  maxNestedTags: JUNIT_MAX_DEPTH, // a backstop: checkMarkup refuses deeper nesting first, with its position
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
  // The parser also passes a self-closing tag's name with its trailing "/" (`skipped/`).
  transformTagName: (name: string) => (KNOWN_TAGS.has(name.replace(/\/$/, '')) ? name : `~${name}`),
}));

function fail(source: string, text: string, offset: number, message: string): never {
  const { line, col } = lineCol(text, offset);
  return failAt(source, line, col, message);
}

function failAt(source: string, line: number, col: number, message: string): never {
  return invalid(`${source}:${line}:${col}`, message);
}

/** INVALID_ARGUMENT reading `where: message`, or `full`, with `where` as the problem's path. */
function invalid(where: string, message: string, full = `${where}: ${message}`, cause?: unknown): never {
  throw new EvidentError('INVALID_ARGUMENT', full, { cause, details: [{ path: where, message }] });
}

/** 1-based line and column (in UTF-16 code units) of a character offset. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

const START_TAG = /<[^\s/>!?]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(\/?)>/y;

/**
 * Walks the markup of a well-formed document (the validator has accepted it) and refuses declarations that
 * bring entities (`<!DOCTYPE`, `<!ENTITY`) anywhere, and nesting deeper than JUNIT_MAX_DEPTH, with the offset.
 */
function checkMarkup(xml: string, source: string): void {
  let depth = 0;
  for (let i = xml.indexOf('<'); i !== -1; i = xml.indexOf('<', i)) {
    const head = xml.slice(i, i + 9);
    if (head.startsWith('<!--')) i = skipPast(xml, i, '-->');
    else if (head.startsWith('<![CDATA[')) i = skipPast(xml, i, ']]>');
    else if (head.startsWith('<?')) i = skipPast(xml, i, '?>');
    else if (head.startsWith('<!')) {
      fail(source, xml, i, 'DOCTYPE and ENTITY declarations are refused (JUnit XML needs none; entity expansion is an attack vector)');
    } else if (head.startsWith('</')) {
      depth--;
      i = skipPast(xml, i, '>');
    } else {
      START_TAG.lastIndex = i;
      const m = START_TAG.exec(xml);
      if (!m) return; // cannot happen after validation
      if (depth + 1 > JUNIT_MAX_DEPTH) fail(source, xml, i, `elements nested deeper than ${JUNIT_MAX_DEPTH}`);
      if (m[1] !== '/') depth++;
      i = START_TAG.lastIndex;
    }
  }
}

function skipPast(text: string, from: number, end: string): number {
  const at = text.indexOf(end, from);
  return at === -1 ? text.length : at + end.length;
}

function validate(xml: string, source: string): void {
  if (xml.trim() === '') failAt(source, 1, 1, 'empty file, expected JUnit XML');
  const result = xmlLib().XMLValidator.validate(xml);
  if (result === true) return;
  const { msg, line, col } = result.err;
  // The validator reports elements left open at the end of the input at 1:1, listing their names.
  if (msg.startsWith("Invalid '[")) {
    const open = [...msg.matchAll(/"([^"]+)"/g)].map((m) => `<${m[1]}>`).join(', ');
    fail(source, xml, xml.length, `unexpected end of file: ${open || 'elements'} not closed`);
  }
  failAt(source, line ?? 1, col ?? 1, msg);
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the XML predefined entities and character references (XML 1.0 §4.1, §4.6); others stay as written. */
function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (whole, ref: string) => {
    if (!ref.startsWith('#')) return PREDEFINED[ref] ?? whole;
    const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

function kids(node: XmlNode, tag: string): XmlNode[] {
  if (!Object.hasOwn(node, tag)) return [];
  const value = node[tag];
  if (!Array.isArray(value)) return [];
  // An empty element without attributes (`<skipped/>`) comes back as an empty string.
  return value.flatMap((v: unknown): XmlNode[] => {
    if (typeof v === 'string') return [{ '#text': v }];
    return typeof v === 'object' && v !== null ? [v as XmlNode] : [];
  });
}

function attr(node: XmlNode, name: string): string | undefined {
  const key = `@${name}`;
  const value = Object.hasOwn(node, key) ? node[key] : undefined;
  return typeof value === 'string' ? decode(value) : undefined;
}

function text(node: XmlNode): string {
  const own = typeof node['#text'] === 'string' ? decode(node['#text']) : '';
  const cdata = kids(node, '#cdata').map((c) => (typeof c['#text'] === 'string' ? c['#text'] : '')).join('');
  return own + cdata;
}

/** A number written with optional `,` thousands separators (Surefire wrote `time="1,234.5"` in some locales). */
function parseNumber(value: string | undefined): number | undefined {
  const cleaned = value?.trim().replace(/,/g, '') ?? '';
  const n = cleaned === '' ? NaN : Number(cleaned);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

const count = (value: string | undefined): number => Math.floor(parseNumber(value) ?? 0);
const round = (secs: number): number => Math.round(secs * 1e6) / 1e6;

function firstLine(message: string): string {
  const line = message.split('\n').find((l) => l.trim() !== '') ?? '';
  const trimmed = line.trim();
  return trimmed.length > MAX_MESSAGE ? `${trimmed.slice(0, MAX_MESSAGE)}…` : trimmed;
}

interface Walk {
  suites: JUnitSuite[];
  failed: JUnitFailedCase[];
}

function readCase(testcase: XmlNode, suite: JUnitSuite, walk: Walk): void {
  suite.tests++;
  suite.duration_secs += parseNumber(attr(testcase, 'time')) ?? 0;
  const failure = kids(testcase, 'failure')[0];
  const error = kids(testcase, 'error')[0];
  // pytest writes both `<failure>` and `<error>` on one case when a failing test's teardown also errors, and
  // counts it once in `tests` and once in each of `failures` and `errors`; so do we.
  if (failure) suite.failures++;
  if (error) suite.errors++;
  if (!failure && !error && (kids(testcase, 'skipped').length > 0 || kids(testcase, 'ignored').length > 0)) suite.skipped++;
  const problem = failure ?? error;
  if (problem && walk.failed.length < JUNIT_MAX_FAILED_CASES) {
    walk.failed.push({
      suite: suite.name,
      classname: attr(testcase, 'classname') ?? '',
      name: attr(testcase, 'name') ?? '',
      message: firstLine(attr(problem, 'message') ?? text(problem)),
      type: attr(problem, 'type') || (failure ? 'failure' : 'error'),
    });
  }
}

function readSuite(node: XmlNode, walk: Walk): void {
  const cases = kids(node, 'testcase');
  const children = kids(node, 'testsuite');
  const suite: JUnitSuite = { name: attr(node, 'name') ?? '', tests: 0, failures: 0, errors: 0, skipped: 0, duration_secs: 0 };
  const timestamp = attr(node, 'timestamp');
  if (timestamp) suite.timestamp = timestamp;
  if (cases.length > 0) {
    for (const testcase of cases) readCase(testcase, suite, walk);
    // A suite's own `time` covers its nested suites too; use it only when it has none, else sum its cases.
    const time = parseNumber(attr(node, 'time'));
    if (time !== undefined && children.length === 0) suite.duration_secs = time;
    suite.duration_secs = round(suite.duration_secs);
    walk.suites.push(suite);
  } else if (children.length === 0) {
    suite.tests = count(attr(node, 'tests'));
    suite.failures = count(attr(node, 'failures'));
    suite.errors = count(attr(node, 'errors'));
    suite.skipped = count(attr(node, 'skipped') ?? attr(node, 'skips'));
    suite.duration_secs = round(parseNumber(attr(node, 'time')) ?? 0);
    walk.suites.push(suite);
  }
  for (const child of children) readSuite(child, walk);
}

const TOTALS = ['tests', 'failures', 'errors', 'skipped', 'duration_secs'] as const;

function totalsOf(suites: JUnitSuite[]): JUnitTotals {
  const totals: JUnitTotals = { tests: 0, failures: 0, errors: 0, skipped: 0, duration_secs: 0 };
  for (const s of suites) for (const key of TOTALS) totals[key] += s[key];
  totals.duration_secs = round(totals.duration_secs);
  return totals;
}

/**
 * Parses one JUnit XML file. `source` names the file in error messages, which read
 * `results/TEST-a.xml:12:5: <problem>` and carry the same location in `details`.
 */
export function parseJUnit(xml: string, source: string): JUnitReport {
  if (typeof xml !== 'string') invalid(source, 'JUnit XML must be text');
  if (xml.length > JUNIT_MAX_CHARS) invalid(source, `JUnit XML larger than ${JUNIT_MAX_CHARS} characters is refused`);
  const body = xml.startsWith('\uFEFF') ? xml.slice(1) : xml;
  validate(body, source);
  checkMarkup(body, source);
  let doc: XmlNode;
  try {
    doc = parser().parse(body) as XmlNode;
  } catch (err) {
    return invalid(source, (err as Error).message, undefined, err);
  }
  const walk: Walk = { suites: [], failed: [] };
  for (const root of kids(doc, 'testsuites')) for (const suite of kids(root, 'testsuite')) readSuite(suite, walk);
  for (const suite of kids(doc, 'testsuite')) readSuite(suite, walk);
  const found = kids(doc, 'testsuites').some((r) => kids(r, 'testsuite').length > 0) || kids(doc, 'testsuite').length > 0;
  const message = `no JUnit test suites in ${source} (expected a <testsuites> or <testsuite> root element)`;
  if (!found) invalid(source, message, message);
  return { suites: walk.suites, totals: totalsOf(walk.suites), failed_cases: walk.failed };
}

/** Totals many parsed files (a `--results-dir` holds one XML file per suite or per run). */
export function mergeJUnit(reports: readonly JUnitReport[]): JUnitReport {
  const suites = reports.flatMap((r) => r.suites);
  const failed = reports.flatMap((r) => r.failed_cases).slice(0, JUNIT_MAX_FAILED_CASES);
  return { suites, totals: totalsOf(suites), failed_cases: failed };
}

/** A JUnit attestation is compliant iff no test failed and none errored (skipped tests do not count). */
export function junitCompliant(report: JUnitReport): boolean {
  return report.totals.failures === 0 && report.totals.errors === 0;
}
