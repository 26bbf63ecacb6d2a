import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import { SARIF_MAX_CHARS, parseSarif, sarifCompliant, type SarifReport, type SarifThreshold } from '../../src/formats/index.js';

const DIR = 'test/fixtures/sarif';
const read = (name: string): string => readFileSync(`${DIR}/${name}`, 'utf8');
const parseFixture = (name: string): SarifReport => parseSarif(read(name), name);

function refusal(run: () => unknown): EvidentError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(EvidentError);
    expect((err as EvidentError).code).toBe('INVALID_ARGUMENT');
    return err as EvidentError;
  }
  throw new Error('expected the input to be refused');
}

type Counts = Omit<SarifReport, 'top'>;
const FIXTURES: Record<string, Counts> = {
  'snyk-code.sarif': {
    tools: ['SnykCode'], results: 3, suppressed: 1, rules: 3,
    by_level: { error: 1, warning: 2, note: 0, none: 0 }, by_severity: { critical: 0, high: 1, medium: 2, low: 0 },
  },
  'snyk-open-source.sarif': {
    tools: ['Snyk Open Source'], results: 5, suppressed: 0, rules: 4,
    by_level: { error: 2, warning: 2, note: 1, none: 0 }, by_severity: { critical: 1, high: 1, medium: 2, low: 1 },
  },
  'trivy.sarif': {
    tools: ['Trivy'], results: 6, suppressed: 0, rules: 5,
    by_level: { error: 3, warning: 1, note: 2, none: 0 }, by_severity: { critical: 0, high: 3, medium: 1, low: 1 },
  },
  'semgrep.sarif': {
    tools: ['Semgrep OSS'], results: 3, suppressed: 1, rules: 3,
    by_level: { error: 1, warning: 1, note: 1, none: 0 }, by_severity: { critical: 0, high: 1, medium: 1, low: 1 },
  },
  'codeql.sarif': {
    tools: ['CodeQL'], results: 6, suppressed: 0, rules: 4,
    by_level: { error: 3, warning: 1, note: 2, none: 0 }, by_severity: { critical: 1, high: 3, medium: 0, low: 2 },
  },
};

describe('parseSarif on real scanners\' logs', () => {
  for (const [name, want] of Object.entries(FIXTURES)) {
    it(name, () => {
      const { top, ...counts } = parseFixture(name);
      expect(counts).toEqual(want);
      expect(top).toHaveLength(want.results);
      expect(sarifCompliant(parseFixture(name))).toBe(false);
    });
  }

  it('ranks the top results by severity, then level, and reads their locations', () => {
    const codeql = parseFixture('codeql.sarif');
    expect(codeql.top.map((t) => t.rule_id)).toEqual([
      'js/code-injection', 'js/sql-injection', 'js/sql-injection', 'js/missing-rate-limiting', 'js/unused-local-variable', 'js/unused-local-variable',
    ]);
    expect(codeql.top[0]).toEqual({
      rule_id: 'js/code-injection', level: 'error', location: 'src/routes/eval.js:9:10',
      message: 'This code execution depends on a [user-provided value](1).',
    });
    expect(parseFixture('snyk-open-source.sarif').top[0]).toMatchObject({ rule_id: 'SNYK-JS-MINIMIST-2429795', location: 'package.json:1' });
    // Semgrep writes no level on results: the rule's default applies (§3.27.10); the nosemgrep one is suppressed.
    expect(parseFixture('semgrep.sarif').top.map((t) => t.level)).toEqual(['error', 'warning', 'note']);
  });

  it('applies thresholds', () => {
    const trivy = parseFixture('trivy.sarif');
    const check = (t: SarifThreshold) => sarifCompliant(trivy, t);
    expect([check({ severity: 'critical' }), check({ severity: 'high' }), check({ level: 'error' }), check({ level: 'note' })]).toEqual([true, false, false, false]);
    const snykCode = parseFixture('snyk-code.sarif');
    expect([sarifCompliant(snykCode, { severity: 'critical' }), sarifCompliant(snykCode, { severity: 'high' })]).toEqual([true, false]);
    expect(sarifCompliant(snykCode, { severity: 'critical', level: 'warning' })).toBe(false);
    expect(() => sarifCompliant(trivy, { level: 'fatal' as 'error' })).toThrow(EvidentError);
    expect(() => sarifCompliant(trivy, { severity: 'urgent' as 'high' })).toThrow(EvidentError);
  });
});

describe('parseSarif semantics', () => {
  const log = (results: unknown[], rules: unknown[] = [], extra: Record<string, unknown> = {}) =>
    JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: { name: 'T', rules }, ...extra }, results }] });

  it('defaults the level from kind, then the rule, then "warning"', () => {
    const rules = [{ id: 'r0', defaultConfiguration: { level: 'note' } }, { id: 'r1' }];
    const report = parseSarif(log([
      { ruleId: 'r0', message: { text: 'a' } },
      { ruleIndex: 0, message: { text: 'b' } },
      { ruleId: 'r1', message: { text: 'c' } },
      { ruleId: 'unknown', message: { text: 'd' } },
      { ruleId: 'r0', kind: 'pass', message: { text: 'e' } },
      { ruleId: 'r0', kind: 'fail', message: { text: 'f' } },
    ], rules), 'a.sarif');
    expect(report.by_level).toEqual({ error: 0, warning: 2, note: 3, none: 1 });
    expect(report.by_severity).toEqual({ critical: 0, high: 0, medium: 2, low: 3 });
    expect(report.rules).toBe(3);
  });

  it('maps severities in the documented order', () => {
    const rules = [
      { id: 'cvss', properties: { 'security-severity': '9.0' } },
      { id: 'zero', properties: { 'security-severity': '0.0' } },
      { id: 'text', properties: { severity: 'Moderate' } },
      { id: 'codeql', properties: { 'problem.severity': 'recommendation' } },
      { id: 'tag', properties: { tags: ['vulnerability', 'LOW'] } },
      { id: 'junk', properties: { 'security-severity': 'undefined' } },
    ];
    const r = (ruleId: string, more: Record<string, unknown> = {}) => ({ ruleId, level: 'error', message: { text: 'm' }, ...more });
    const report = parseSarif(log([
      r('cvss'), r('zero'), r('text'), r('codeql'), r('tag'), r('junk'),
      r('cvss', { properties: { 'security-severity': 6.9 } }), r('none', { properties: { severity: 'high' } }),
      r('proto', { properties: JSON.parse('{"severity": "constructor", "__proto__": {"severity": "critical"}}') }),
    ], rules), 'a.sarif');
    // The last one falls back to its level: "constructor" is no severity, and JSON's __proto__ is an own key.
    expect(report.by_severity).toEqual({ critical: 1, high: 3, medium: 2, low: 2 });
  });

  it('follows rule references into extensions and fills message strings', () => {
    const report = parseSarif(log(
      [{ rule: { id: 'x/1', index: 0, toolComponent: { index: 0 } }, message: { id: 'default', arguments: ['foo', 'bar'] } }],
      [],
      { extensions: [{ name: 'pack', rules: [{ id: 'x/1', defaultConfiguration: { level: 'error' }, messageStrings: { default: { text: 'Use of {0} in {1}; {2} left.' } } }] }] },
    ), 'a.sarif');
    expect(report.top).toEqual([{ rule_id: 'x/1', level: 'error', message: 'Use of foo in bar; {2} left.', location: '' }]);
  });

  it('counts a suppression under review or rejected as not suppressed', () => {
    const report = parseSarif(log([
      { level: 'error', message: { text: 'a' }, suppressions: [{ kind: 'external', status: 'accepted' }] },
      { level: 'error', message: { text: 'b' }, suppressions: [{ kind: 'external', status: 'underReview' }] },
      { level: 'error', message: { text: 'c' }, suppressions: [{ kind: 'inSource' }, { kind: 'external', status: 'rejected' }] },
    ]), 'a.sarif');
    expect([report.results, report.suppressed, report.by_level.error]).toEqual([2, 1, 2]);
  });

  it('is compliant by default when no result is at error level', () => {
    const report = parseSarif(log([{ level: 'warning', message: { text: 'a' } }]), 'a.sarif');
    expect(sarifCompliant(report)).toBe(true);
    expect(sarifCompliant(report, { level: 'warning' })).toBe(false);
    expect(sarifCompliant(parseSarif(log([]), 'a.sarif'), { level: 'note', severity: 'low' })).toBe(true);
  });
});

describe('parseSarif refuses bad input', () => {
  it('a wrong version, listing every problem with its JSON path', () => {
    const err = refusal(() => parseSarif(read('malformed/wrong-version.sarif'), 'scan.sarif'));
    expect(err.message).toMatch(/^invalid SARIF in scan\.sarif: \/version: must be "2\.1\.0" \(found "2\.0\.0"\)/);
    expect(err.details).toEqual([
      { path: '/version', message: 'must be "2.1.0" (found "2.0.0")' },
      { path: '/runs/0/tool/driver', message: 'must be an object' },
    ]);
  });

  it('missing runs', () => {
    expect(refusal(() => parseSarif(read('malformed/missing-runs.sarif'), 'scan.sarif')).details).toEqual([{ path: '/runs', message: 'must be an array of runs' }]);
  });

  it('bad results and runs', () => {
    const err = refusal(() => parseSarif(read('malformed/bad-shape.sarif'), 'scan.sarif'));
    expect((err.details as { path: string }[]).map((d) => d.path)).toEqual([
      '/runs/0/results/0/level', '/runs/0/results/1/message', '/runs/1/tool/driver', '/runs/1/results',
    ]);
    expect(refusal(() => parseSarif('[]', 's')).details).toEqual([{ path: '/', message: 'must be a JSON object (a SARIF log)' }]);
  });

  it('a JSON syntax error, at its line and column', () => {
    const err = refusal(() => parseSarif(read('malformed/syntax-error.sarif'), 'reports/trivy.sarif'));
    expect(err.message).toBe('reports/trivy.sarif:41:7: invalid JSON: expected a double-quoted property name');
    expect(err.details).toEqual([{ path: 'reports/trivy.sarif:41:7', message: 'expected a double-quoted property name' }]);
    const at = (text: string) => refusal(() => parseSarif(text, 'f')).message;
    expect(at('')).toBe('f:1:1: invalid JSON: unexpected end of input');
    expect(at('{"a": 1,}')).toBe('f:1:9: invalid JSON: expected a double-quoted property name');
    expect(at('{\n  "a": tru}')).toBe('f:2:8: invalid JSON: unexpected character "t"');
    expect(at('{"a": [1 2]}')).toBe('f:1:10: invalid JSON: expected \',\' or \']\'');
    expect(at('{"a": "x\ny"}')).toBe('f:1:9: invalid JSON: control character in a string');
    expect(at('{"a": "\\q"}')).toBe('f:1:8: invalid JSON: invalid escape in a string');
    expect(at('{"a": 01}')).toBe('f:1:8: invalid JSON: expected \',\' or \'}\'');
    expect(at('{} {}')).toBe('f:1:4: invalid JSON: unexpected text after the JSON value');
    expect(at('{"a": "b')).toBe('f:1:9: invalid JSON: unexpected end of input');
  });

  it(`inputs over ${SARIF_MAX_CHARS} characters`, () => {
    const err = refusal(() => parseSarif(' '.repeat(SARIF_MAX_CHARS + 1), 'big.sarif'));
    expect(err.details).toEqual([{ path: 'big.sarif', message: `SARIF larger than ${SARIF_MAX_CHARS} characters is refused` }]);
  });
});

// Property tests.
const LEVELS = ['error', 'warning', 'note', 'none'] as const;
type Level = (typeof LEVELS)[number];
const genResult = fc.record({
  level: fc.constantFrom(...LEVELS),
  // How the level is written: on the result, or only as the rule's default (§3.27.10).
  via: fc.constantFrom('result', 'rule', 'kind'),
  rule: fc.nat({ max: 4 }),
});

describe('parseSarif properties', () => {
  it('by_level equals the generated levels, however they are written', () => {
    fc.assert(fc.property(fc.array(fc.array(genResult, { maxLength: 20 }), { minLength: 1, maxLength: 3 }), (runs) => {
      const want: Record<Level, number> = { error: 0, warning: 0, note: 0, none: 0 };
      const sarif = {
        version: '2.1.0',
        runs: runs.map((results, r) => {
          const rules = results.map((g, i) => ({ id: `R${r}-${i}`, defaultConfiguration: { level: g.level } }));
          return {
            tool: { driver: { name: `tool-${r}`, rules } },
            results: results.map((g, i) => {
              const level = g.via === 'kind' ? 'none' : g.level;
              want[level]++;
              if (g.via === 'result') return { ruleId: `x${g.rule}`, level: g.level, message: { text: 'm' } };
              if (g.via === 'rule') return { ruleId: `R${r}-${i}`, ruleIndex: i, message: { text: 'm' } };
              return { ruleId: `R${r}-${i}`, kind: 'informational', message: { text: 'm' } };
            }),
          };
        }),
      };
      const report = parseSarif(JSON.stringify(sarif, null, 2), 'g.sarif');
      expect(report.by_level).toEqual(want);
      expect(report.results).toBe(runs.flat().length);
      expect(report.top.length).toBe(Math.min(50, report.results));
      expect(sarifCompliant(report)).toBe(want.error === 0);
    }));
  });

  const files = readdirSync(DIR).filter((f) => f.endsWith('.sarif')).map(read);

  it('a truncated or corrupted log never throws anything but EvidentError, and JSON errors carry a position', () => {
    fc.assert(fc.property(fc.constantFrom(...files), fc.nat(), fc.nat(), fc.string({ maxLength: 3 }), (file, cut, at, junk) => {
      const p = at % file.length;
      for (const candidate of [file.slice(0, cut % (file.length + 1)), file.slice(0, p) + junk + file.slice(p + 1)]) {
        let jsonOk = true;
        try {
          JSON.parse(candidate);
        } catch {
          jsonOk = false;
        }
        try {
          parseSarif(candidate, 'f.sarif');
        } catch (err) {
          expect(err).toBeInstanceOf(EvidentError);
          // Our own locator found the JSON error (V8's messages are capitalised and say "position").
          if (!jsonOk) expect((err as Error).message).toMatch(/^f\.sarif:\d+:\d+: invalid JSON: [a-z]/);
        }
      }
    }), { numRuns: 300 });
  });

  it('any JSON value is either a report or an EvidentError', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      try {
        parseSarif(JSON.stringify(value), 'v.sarif');
      } catch (err) {
        expect(err).toBeInstanceOf(EvidentError);
      }
    }));
  });
});
