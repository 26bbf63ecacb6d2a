/**
 * The one printer: results go to stdout (as a table or as JSON), diagnostics to stderr.
 * `--output json` output is stable: snake_case keys, one JSON document per command.
 */
export interface Printer {
  json(value: unknown): void;
  table(headers: string[], rows: (string | number | null | undefined)[][]): void;
  text(text: string): void;
  info(line: string): void;
  /** A warning on stderr, left out with --quiet. */
  warn(line: string): void;
  result(value: unknown, human: () => void): void;
}

export function createPrinter(output: 'table' | 'json' | 'json-evident', out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr, quiet = false): Printer {
  const printer: Printer = {
    json(value) {
      out.write(JSON.stringify(value, null, 2) + '\n');
    },
    table(headers, rows) {
      const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
      const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
      // One write per table, not per row: on a pipe each write is a system call and a pass through the stream
      // (get trail prints ~100 rows, docs/performance.md "Tenth round").
      out.write(cells.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd() + '\n').join(''));
    },
    text(text) {
      out.write(text.endsWith('\n') ? text : text + '\n');
    },
    info(line) {
      err.write(line + '\n');
    },
    warn(line) {
      if (!quiet) err.write(`Warning: ${line}\n`);
    },
    result(value, human) {
      if (output !== 'table') printer.json(value);
      else human();
    },
  };
  return printer;
}
