import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { blockYaml } from '../../src/pipeline/receipt-yaml.js';

// The receipt's YAML emitter (receipt-yaml.ts) was rewritten for speed; receipts must keep their exact
// bytes. The previous emitter is kept here as the oracle.

type Value = string | number | boolean | null | undefined | Value[] | { [key: string]: Value };
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_KEY = /^(?:true|false|null|yes|no|on|off|y|n)$/i;
const NON_PRINTABLE = /[\u007f-\u0084\u0086-\u009f\ufeff\ufffe\uffff]/g;
const oldQuoted = (text: string) => JSON.stringify(text).replace(NON_PRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const oldKey = (name: string) => (PLAIN_KEY.test(name) && !RESERVED_KEY.test(name) ? name : oldQuoted(name));
function oldScalar(value: Value): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'string') return oldQuoted(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? '.inf' : value < 0 ? '-.inf' : '.nan';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.length === 0) return '[]';
  if (typeof value === 'object' && value !== undefined && !Array.isArray(value) && Object.values(value).every((v) => v === undefined)) return '{}';
  return undefined;
}
function oldLines(value: Value, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = oldScalar(item);
      if (s !== undefined) out.push(`${indent}- ${s}`);
      else {
        const nested: string[] = [];
        oldLines(item, `${indent}  `, nested);
        out.push(`${indent}- ${nested[0]!.slice(indent.length + 2)}`, ...nested.slice(1));
      }
    }
    return;
  }
  for (const [name, member] of Object.entries(value as Record<string, Value>)) {
    if (member === undefined) continue;
    const s = oldScalar(member);
    if (s !== undefined) out.push(`${indent}${oldKey(name)}: ${s}`);
    else {
      out.push(`${indent}${oldKey(name)}:`);
      oldLines(member, `${indent}  `, out);
    }
  }
}
const oldBlockYaml = (value: Record<string, unknown>) => {
  const out: string[] = [];
  oldLines(value as Value, '', out);
  return out.join('\n') + '\n';
};

// JSON-like values; undefined only as a mapping member (a receipt's optional fields), never a list item.
const leaf = fc.oneof(fc.string({ unit: 'binary' }), fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null));
const { tree } = fc.letrec<{ tree: Value }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('tree'), { maxLength: 4 }), fc.dictionary(fc.string(), fc.option(tie('tree'), { nil: undefined }), { maxKeys: 4 })),
}));
const mapping = fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('name', 'yes', 'a b', '-x', '0')), tree, { minKeys: 1, maxKeys: 5 });

describe('blockYaml', () => {
  it('writes exactly the bytes of the previous emitter', () => {
    fc.assert(fc.property(mapping, (value) => blockYaml(value) === oldBlockYaml(value)), { numRuns: 500 });
  });

  it('reads back as the same value (undefined members left out, as JSON would)', () => {
    const finite = fc.dictionary(fc.string({ unit: 'binary' }), fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.dictionary(fc.string(), fc.string(), { minKeys: 1 }), { maxLength: 3 })), { minKeys: 1 });
    fc.assert(
      fc.property(finite, (value) => {
        expect(parse(blockYaml(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });
});
