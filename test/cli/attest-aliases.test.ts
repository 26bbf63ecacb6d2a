import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// ATTEST's spellings of Evident's commands (issue #19 item 3), through the built CLI: `verify FILE`,
// `pipeline show --format ascii|dot|mermaid`, `audit report --format json`; and the system information
// every receipt now records.

const env = { HOME: tempDir('evident-alias-home-') };
const YAML = `version: "0.1"
name: aliases
steps:
  build: { run: "mkdir -p dist && echo app > dist/app.txt", outputs: [dist/] }
  "test-it": { run: "cat dist/app.txt", needs: [build] }
`;

function workspace(): { dir: string; file: string } {
  const dir = tempDir('evident-alias-');
  fs.writeFileSync(path.join(dir, 'attest.yaml'), YAML);
  return { dir, file: path.join(dir, 'attest.yaml') };
}

describe("ATTEST's command spellings", () => {
  it('pipeline show: ascii is pipeline graph; dot and mermaid draw the DAG', async () => {
    const { file } = workspace();
    const ascii = await evident(['pipeline', 'show', '--format', 'ascii', '-f', file], env);
    const graph = await evident(['pipeline', 'graph', '-f', file], env);
    expect(ascii.code).toBe(0);
    expect(ascii.stdout).toBe(graph.stdout);
    const dot = await evident(['pipeline', 'show', '--format', 'dot', '-f', file], env);
    expect(dot.stdout).toBe('digraph "aliases" {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n  "build";\n  "test-it";\n  "build" -> "test-it";\n}\n');
    const mermaid = await evident(['pipeline', 'show', '--format', 'mermaid', '-f', file], env);
    expect(mermaid.stdout).toBe('flowchart LR\n  s0["build"]\n  s1["test-it"]\n  s0 --> s1\n');
    const bad = await evident(['pipeline', 'show', '--format', 'svg', '-f', file], env);
    expect(bad.code).toBe(2);
  }, 60_000);

  it('verify FILE is verify receipt FILE; receipts record the system; audit report --format json', async () => {
    const { dir, file } = workspace();
    const ran = await evident(['run', '-f', file], env);
    expect(ran.code, ran.stderr).toBe(0);
    const receipts = path.join(dir, '.evident/cache/receipts');
    const receipt = path.join(receipts, fs.readdirSync(receipts)[0]!);
    const text = fs.readFileSync(receipt, 'utf8');
    expect(text).toContain(`os: "${os.platform()} ${os.release()}"`);
    expect(text).toContain(`runtime: "node ${process.version}"`);
    expect(text).toContain('isolation: "process"');
    const short = await evident(['verify', receipt, '--no-signatures', '--workspace', dir], env);
    const long = await evident(['verify', 'receipt', receipt, '--no-signatures', '--workspace', dir], env);
    expect(short.code, short.stderr).toBe(0);
    expect(short.stdout).toBe(long.stdout);
    expect(short.stdout).toContain('[OK] All file hashes verified');
    // A subcommand name is never taken for a file.
    expect((await evident(['verify', 'log', '--help'], env)).stdout).toContain('Verify the org');
    const report = await evident(['audit', 'report', '--format', 'json', '-f', file], env);
    expect(report.code, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ period_days: 30 });
  }, 60_000);
});
