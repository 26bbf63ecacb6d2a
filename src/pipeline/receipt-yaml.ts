// The receipt as YAML, written directly: the same text the `yaml` library printed with the options the
// receipt used (block style, every string double-quoted, plain keys), at a fraction of the cost — the
// receipt of a 200-step run was ~50 ms of a warm run through the library (docs/performance.md "The
// runner"). Reading receipts still goes through the library (receipt.ts).

type Value = string | number | boolean | null | undefined | Value[] | { [key: string]: Value };

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_KEY = /^(?:true|false|null|yes|no|on|off|y|n)$/i;
// Characters YAML does not allow unescaped in a double-quoted scalar that JSON.stringify leaves as they are.
const NON_PRINTABLE = /[\u007f-\u0084\u0086-\u009f\ufeff\ufffe\uffff]/g;

/** A double-quoted YAML scalar: JSON's escapes are YAML's, plus the characters YAML wants escaped. */
export function quoted(text: string): string {
  return JSON.stringify(text).replace(NON_PRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function key(name: string): string {
  return PLAIN_KEY.test(name) && !RESERVED_KEY.test(name) ? name : quoted(name);
}

function scalar(value: Value): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'string') return quoted(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? '.inf' : value < 0 ? '-.inf' : '.nan';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.length === 0) return '[]';
  if (typeof value === 'object' && value !== undefined && !Array.isArray(value) && Object.values(value).every((v) => v === undefined)) return '{}';
  return undefined;
}

function lines(value: Value, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = scalar(item);
      if (s !== undefined) out.push(`${indent}- ${s}`);
      else {
        const nested: string[] = [];
        lines(item, `${indent}  `, nested);
        out.push(`${indent}- ${nested[0]!.slice(indent.length + 2)}`, ...nested.slice(1));
      }
    }
    return;
  }
  for (const [name, member] of Object.entries(value as Record<string, Value>)) {
    if (member === undefined) continue;
    const s = scalar(member);
    if (s !== undefined) out.push(`${indent}${key(name)}: ${s}`);
    else {
      out.push(`${indent}${key(name)}:`);
      lines(member, `${indent}  `, out);
    }
  }
}

/** A block-style YAML document for a JSON-like mapping. */
export function blockYaml(value: Record<string, unknown>): string {
  const out: string[] = [];
  lines(value as Value, '', out);
  return out.join('\n') + '\n';
}
