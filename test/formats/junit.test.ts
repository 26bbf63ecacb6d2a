import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import {
  JUNIT_MAX_CHARS, JUNIT_MAX_DEPTH, junitCompliant, mergeJUnit, parseJUnit, type JUnitReport, type JUnitTotals,
} from '../../src/formats/index.js';

const DIR = 'test/fixtures/junit';
const read = (name: string): string => readFileSync(`${DIR}/${name}`, 'utf8');
const parseFixture = (name: string): JUnitReport => parseJUnit(read(name), `${DIR}/${name}`);

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

const FIXTURES: Record<string, { totals: JUnitTotals; suites: number; failed: string[] }> = {
  'surefire-TEST-com.example.cart.CartServiceTest.xml': {
    totals: { tests: 6, failures: 1, errors: 1, skipped: 1, duration_secs: 1204.518 },
    suites: 1, failed: ['removesLastItem', 'loadsPricesFromCatalog'],
  },
  'pytest.xml': {
    totals: { tests: 7, failures: 2, errors: 2, skipped: 2, duration_secs: 0.842 },
    suites: 1, failed: ['test_create_user', 'test_migrations', 'test_rollback'],
  },
  'jest-junit.xml': {
    totals: { tests: 8, failures: 2, errors: 0, skipped: 1, duration_secs: 3.187 },
    suites: 3, failed: ['Cart removes the last item', 'checkout retries on 503'],
  },
  'vitest.xml': {
    totals: { tests: 6, failures: 1, errors: 0, skipped: 1, duration_secs: 0.058 },
    suites: 2, failed: ['ledger > proves consistency'],
  },
  'go-junit-report.xml': {
    totals: { tests: 7, failures: 1, errors: 1, skipped: 1, duration_secs: 0.322 },
    suites: 3, failed: ['TestDirDigest/symlink_to_dir', '[build failed]'],
  },
  'junit5-TEST-junit-jupiter.xml': {
    totals: { tests: 5, failures: 1, errors: 0, skipped: 1, duration_secs: 0.287 },
    suites: 1, failed: ['division()'],
  },
};

describe('parseJUnit on real tools\' reports', () => {
  for (const [name, want] of Object.entries(FIXTURES)) {
    it(name, () => {
      const report = parseFixture(name);
      expect(report.totals).toEqual(want.totals);
      expect(report.suites).toHaveLength(want.suites);
      expect(report.failed_cases.map((c) => c.name)).toEqual(want.failed);
      expect(junitCompliant(report)).toBe(false);
    });
  }

  it('reads messages, types and timestamps as the tools write them', () => {
    const surefire = parseFixture('surefire-TEST-com.example.cart.CartServiceTest.xml');
    expect(surefire.failed_cases[0]).toEqual({
      suite: 'com.example.cart.CartServiceTest', classname: 'com.example.cart.CartServiceTest', name: 'removesLastItem',
      message: 'expected: <0> but was: <1>', type: 'org.opentest4j.AssertionFailedError',
    });
    // jest-junit writes no message attribute: the first line of the text stands in.
    const jest = parseFixture('jest-junit.xml');
    expect(jest.failed_cases[1]?.message).toBe('Error: thrown: "Exceeded timeout of 1000 ms for a test.');
    expect(jest.failed_cases[1]?.type).toBe('failure');
    expect(jest.suites[0]?.timestamp).toBe('2024-05-14T09:40:12');
    const pytest = parseFixture('pytest.xml');
    expect(pytest.failed_cases[0]?.message).toBe('AssertionError: assert 409 == 201');
    expect(pytest.failed_cases[1]).toMatchObject({ classname: 'tests.test_db', type: 'error' });
    const go = parseFixture('go-junit-report.xml');
    expect(go.suites.map((s) => s.name)).toEqual([
      'github.com/example/evident/internal/digest', 'github.com/example/evident/internal/oci', 'github.com/example/evident/internal/names',
    ]);
  });

  it('merges a results directory', () => {
    const merged = mergeJUnit(Object.keys(FIXTURES).map(parseFixture));
    expect(merged.totals).toEqual({ tests: 39, failures: 8, errors: 4, skipped: 7, duration_secs: 1209.214 });
    expect(merged.suites).toHaveLength(11);
    expect(merged.failed_cases).toHaveLength(11);
    expect(mergeJUnit([]).totals).toEqual({ tests: 0, failures: 0, errors: 0, skipped: 0, duration_secs: 0 });
  });
});

describe('parseJUnit dialect details', () => {
  const parse = (xml: string) => parseJUnit(xml, 'r.xml');

  it('falls back to suite attributes only for a suite without testcases', () => {
    const report = parse(`<testsuites>
      <testsuite name="summary" tests="1,200" failures="3" errors="1" skips="7" time="12.5"/>
      <testsuite name="cases" tests="99" failures="99"><testcase name="a" time="0.5"/></testsuite>
    </testsuites>`);
    expect(report.suites).toEqual([
      { name: 'summary', tests: 1200, failures: 3, errors: 1, skipped: 7, duration_secs: 12.5 },
      { name: 'cases', tests: 1, failures: 0, errors: 0, skipped: 0, duration_secs: 0.5 },
    ]);
    expect(junitCompliant(report)).toBe(false);
  });

  it('counts nested suites once and sums case times when the suite time is missing', () => {
    const report = parse(`<testsuites><testsuite name="outer" time="9">
      <testcase name="o1" time="0.25"/>
      <testsuite name="inner"><testcase name="i1" time="0.5"/><testcase name="i2" time="1,000.25"><ignored/></testcase></testsuite>
    </testsuite></testsuites>`);
    expect(report.suites.map((s) => [s.name, s.tests, s.skipped, s.duration_secs])).toEqual([['outer', 1, 0, 0.25], ['inner', 2, 1, 1000.75]]);
    expect(report.totals.duration_secs).toBe(1001);
    expect(junitCompliant(report)).toBe(true);
  });

  it('decodes predefined entities and character references, expands nothing else, and keeps CDATA literal', () => {
    const report = parse(`<testsuite name="s"><testcase name="a&amp;b" classname="&#x41;&#66;">
      <failure message="&lt;x&gt; &quot;y&quot; &apos;z&apos; &unknown;"/>
      <system-out><![CDATA[<!DOCTYPE html><p>&amp;</p>]]></system-out></testcase>
      <testcase name="c"><error><![CDATA[line one &amp;
line two]]></error></testcase></testsuite>`);
    expect(report.failed_cases).toEqual([
      { suite: 's', classname: 'AB', name: 'a&b', message: '<x> "y" \'z\' &unknown;', type: 'failure' },
      { suite: 's', classname: '', name: 'c', message: 'line one &amp;', type: 'error' },
    ]);
  });

  it('counts flaky Surefire cases as passed and keeps element names away from object keys', () => {
    const report = parse(`<testsuite name="s"><testcase name="a"><flakyFailure message="m"/><flakyError/></testcase>
      <testcase name="b"><constructor/><__proto__/><hasOwnProperty/><rerunFailure/></testcase></testsuite>`);
    expect(report.totals).toMatchObject({ tests: 2, failures: 0, errors: 0 });
    expect(Object.prototype).not.toHaveProperty('testcase');
  });

  it('keeps at most 100 failed cases', () => {
    const cases = Array.from({ length: 150 }, (_, i) => `<testcase name="t${i}"><failure/></testcase>`).join('');
    const report = parse(`<testsuite name="s">${cases}</testsuite>`);
    expect(report.totals.failures).toBe(150);
    expect(report.failed_cases).toHaveLength(100);
    expect(mergeJUnit([report, report]).failed_cases).toHaveLength(100);
  });

  it('accepts a byte order mark, a namespace prefix and CRLF line ends', () => {
    const report = parse('\uFEFF<?xml version="1.0"?>\r\n<j:testsuite xmlns:j="urn:x" name="s">\r\n<j:testcase name="a"/>\r\n</j:testsuite>\r\n');
    expect(report.totals.tests).toBe(1);
  });
});

describe('parseJUnit refuses bad input with file:line:col', () => {
  it('truncated XML', () => {
    const err = refusal(() => parseJUnit(read('malformed/truncated.xml'), 'results/truncated.xml'));
    expect(err.message).toMatch(/^results\/truncated\.xml:17:13: unexpected end of file: <testsuite>, <testcase>/);
    expect(err.details).toEqual([{ path: 'results/truncated.xml:17:13', message: expect.stringContaining('not closed') }]);
  });

  it('a mismatched closing tag', () => {
    const err = refusal(() => parseJUnit(read('malformed/mismatched-tag.xml'), 'results/TEST-a.xml'));
    expect(err.message).toMatch(/^results\/TEST-a\.xml:5:5: Expected closing tag 'testcase'/);
  });

  it('an XML bomb, by its DOCTYPE, without expanding anything', () => {
    const err = refusal(() => parseJUnit(read('malformed/xml-bomb.xml'), 'bomb.xml'));
    expect(err.message).toMatch(/^bomb\.xml:2:1: DOCTYPE and ENTITY declarations are refused/);
    refusal(() => parseJUnit('<testsuite name="s">\n  <!ENTITY x "y"><testcase name="a"/></testsuite>', 'e.xml'));
    expect(refusal(() => parseJUnit('<testsuite>\n <!DOCTYPE x></testsuite>', 'e.xml')).message).toMatch(/^e\.xml:2:2: /);
  });

  it('valid XML that is not JUnit', () => {
    const err = refusal(() => parseJUnit(read('malformed/failsafe-summary.xml'), 'target/failsafe-reports/failsafe-summary.xml'));
    expect(err.message).toMatch(/^no JUnit test suites in target\/failsafe-reports\/failsafe-summary\.xml/);
    expect(refusal(() => parseJUnit('<testsuites name="jest tests" tests="0"></testsuites>', 'x.xml')).message).toMatch(/no JUnit test suites/);
  });

  it('empty and non-XML files', () => {
    expect(refusal(() => parseJUnit('', 'a.xml')).message).toBe('a.xml:1:1: empty file, expected JUnit XML');
    expect(refusal(() => parseJUnit('{"tests": 1}', 'a.xml')).message).toMatch(/^a\.xml:1:1: /);
    expect(refusal(() => parseJUnit('<testsuite name="a>\n<x/>', 'a.xml')).message).toMatch(/^a\.xml:\d+:\d+: /);
  });

  it(`nesting deeper than ${JUNIT_MAX_DEPTH}`, () => {
    // `n` elements deep: <testsuites>, n - 2 nested <testsuite>, and a <testcase>.
    const deep = (n: number) => `<testsuites>\n${'<testsuite>'.repeat(n - 2)}<testcase name="x"/>${'</testsuite>'.repeat(n - 2)}</testsuites>`;
    expect(parseJUnit(deep(JUNIT_MAX_DEPTH), 'd.xml').totals.tests).toBe(1);
    const err = refusal(() => parseJUnit(deep(JUNIT_MAX_DEPTH + 1), 'd.xml'));
    expect(err.message).toBe(`d.xml:2:${11 * (JUNIT_MAX_DEPTH - 1) + 1}: elements nested deeper than ${JUNIT_MAX_DEPTH}`);
    refusal(() => parseJUnit('<a>'.repeat(100_000) + '</a>'.repeat(100_000), 'd.xml'));
  });

  it(`inputs over ${JUNIT_MAX_CHARS} characters`, () => {
    expect(refusal(() => parseJUnit(' '.repeat(JUNIT_MAX_CHARS + 1), 'big.xml')).message).toMatch(/^big\.xml: .*larger than/);
  });
});

// Property tests: generated suites rendered the way two families of tools write them.
type Outcome = 'pass' | 'failure' | 'error' | 'skipped' | 'flaky';
interface GenCase { name: string; outcome: Outcome; time: number }
interface GenSuite { name: string; cases: GenCase[] }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const text = fc.string({ maxLength: 12 }).map((s) => s.replace(/[^\x20-\x7e]/g, '?'));
const genCase = fc.record({ name: text, outcome: fc.constantFrom<Outcome>('pass', 'failure', 'error', 'skipped', 'flaky'), time: fc.integer({ min: 0, max: 5_000_000 }) });
const genSuite = fc.record({ name: text, cases: fc.array(genCase, { minLength: 1, maxLength: 8 }) });

/** Maven Surefire: one `<testsuite>` root per file, properties, message attributes, CDATA and rerun elements. */
function surefire(suite: GenSuite): string {
  const body = suite.cases.map((c) => {
    const inner = {
      pass: '',
      failure: `<failure message="${esc(c.name)}" type="java.lang.AssertionError"><![CDATA[at ${c.name.replace(/]]>/g, '')}]]></failure><rerunFailure message="m"/>`,
      error: `<error message="boom" type="java.io.IOException"><![CDATA[trace]]></error>`,
      skipped: '<skipped message="later"/>',
      flaky: '<flakyFailure message="once" type="x"><stackTrace>t</stackTrace></flakyFailure>',
    }[c.outcome];
    return `  <testcase name="${esc(c.name)}" classname="com.example.T" time="${(c.time / 1000).toLocaleString('en-US')}">${inner}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="${esc(suite.name)}" tests="0">\n<properties><property name="a" value="b"/></properties>\n${body.join('\n')}\n</testsuite>\n`;
}

/** jest-junit / vitest / pytest: a `<testsuites>` wrapper, text-only failures, `<skipped/>`. */
function ant(suites: GenSuite[]): string {
  const body = suites.map((s) => {
    const cases = s.cases.map((c) => {
      const inner = { pass: '', failure: `<failure>${esc(c.name)}\n  at x</failure>`, error: '<error message="e"/>', skipped: '<skipped/>', flaky: '<system-out>ok</system-out>' }[c.outcome];
      return `<testcase classname="${esc(s.name)}" name="${esc(c.name)}" time="${c.time / 1000}">${inner}</testcase>`;
    });
    return `  <testsuite name="${esc(s.name)}" tests="${s.cases.length}">\n    ${cases.join('\n    ')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="gen">\n${body.join('\n')}\n</testsuites>\n`;
}

function expected(suites: GenSuite[]): JUnitTotals {
  const all = suites.flatMap((s) => s.cases);
  const n = (o: Outcome) => all.filter((c) => c.outcome === o).length;
  const ms = all.reduce((sum, c) => sum + c.time, 0);
  return { tests: all.length, failures: n('failure'), errors: n('error'), skipped: n('skipped'), duration_secs: ms / 1000 };
}

describe('parseJUnit properties', () => {
  it('totals equal the generated counts in both dialects', () => {
    fc.assert(fc.property(fc.array(genSuite, { minLength: 1, maxLength: 5 }), (suites) => {
      const want = expected(suites);
      const fromFiles = mergeJUnit(suites.map((s, i) => parseJUnit(surefire(s), `TEST-${i}.xml`)));
      const fromOne = parseJUnit(ant(suites), 'junit.xml');
      for (const got of [fromFiles.totals, fromOne.totals]) {
        expect({ ...got, duration_secs: 0 }).toEqual({ ...want, duration_secs: 0 });
        expect(got.duration_secs).toBeCloseTo(want.duration_secs, 6);
      }
      expect(fromOne.suites.map((s) => s.name)).toEqual(suites.map((s) => s.name));
      expect(junitCompliant(fromOne)).toBe(want.failures === 0 && want.errors === 0);
    }));
  });

  const files = [...readdirSync(DIR).filter((f) => f.endsWith('.xml')).map(read), ant([{ name: 'x', cases: [{ name: 'y', outcome: 'failure', time: 1 }] }])];

  it('a truncated or corrupted file never throws anything but EvidentError', () => {
    fc.assert(fc.property(fc.constantFrom(...files), fc.nat(), fc.nat(), fc.string({ maxLength: 4 }), (file, cut, at, junk) => {
      for (const candidate of [file.slice(0, cut % (file.length + 1)), file.slice(0, at % file.length) + junk + file.slice(at % file.length)]) {
        try {
          parseJUnit(candidate, 'f.xml');
        } catch (err) {
          expect(err).toBeInstanceOf(EvidentError);
          expect((err as EvidentError).code).toBe('INVALID_ARGUMENT');
        }
      }
    }), { numRuns: 300 });
  });
});
