// The receipt as YAML, written directly: the same text the `yaml` library printed with the options the
// receipt used (block style, every string double-quoted, plain keys), at a fraction of the cost — the
// receipt of a 200-step run was ~50 ms of a warm run through the library (docs/performance.md "The
// runner"). Reading receipts still goes through the library (receipt.ts).

type Value = string | number | boolean | null | undefined | Value[] | { [key: string]: Value };

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_KEY = /^(?:true|false|null|yes|no|on|off|y|n)$/i;
// Characters YAML does not allow unescaped in a double-quoted scalar that JSON.stringify leaves as they are.
const NON_PRINTABLE = /[\u007f-\u0084\u0086-\u009f\ufeff\ufffe\uffff]/g;

// Printable ASCII without `"` and `\`: JSON.stringify would only add the quotes.
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A double-quoted YAML scalar: JSON's escapes are YAML's, plus the characters YAML wants escaped. */
export function quoted(text: string): string {
  if (PLAIN_ASCII.test(text)) return `"${text}"`;
  return JSON.stringify(text).replace(NON_PRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Keys repeat on every step of a receipt (name, command, exit_code, ...): each is checked once.
const keys = new Map<string, string>();
function key(name: string): string {
  let text = keys.get(name);
  if (text === undefined) {
    text = PLAIN_KEY.test(name) && !RESERVED_KEY.test(name) ? name : quoted(name);
    keys.set(name, text);
  }
  return text;
}

function scalar(value: Value): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'string') return quoted(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? '.inf' : value < 0 ? '-.inf' : '.nan';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
  if (typeof value === 'object') {
    for (const name in value) if (value[name] !== undefined) return undefined;
    return '{}';
  }
  return undefined;
}

/**
 * The block form of a sequence or mapping, one line per scalar, children indented by two spaces. Its
 * first line starts with `first` instead of `indent`: a mapping or sequence that is a sequence item
 * starts on the item's `- ` line.
 */
function emit(value: Value, indent: string, first: string, out: string[]): void {
  let lead = first;
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = scalar(item);
      if (s !== undefined) out.push(`${lead}- ${s}`);
      else emit(item, `${indent}  `, `${lead}- `, out);
      lead = indent;
    }
    return;
  }
  const mapping = value as Record<string, Value>;
  for (const name in mapping) {
    const member = mapping[name];
    if (member === undefined) continue;
    const s = scalar(member);
    if (s !== undefined) out.push(`${lead}${key(name)}: ${s}`);
    else {
      out.push(`${lead}${key(name)}:`);
      emit(member, `${indent}  `, `${indent}  `, out);
    }
    lead = indent;
  }
}

/** A block-style YAML document for a JSON-like mapping. */
export function blockYaml(value: Record<string, unknown>): string {
  const out: string[] = [];
  emit(value as Value, '', '', out);
  return out.join('\n') + '\n';
}
