import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EvidentError } from '../core/index.js';
import {
  buildInspection, buildLayout, buildLink, buildStep, fnmatchEscape, formatInTotoPublicKey, formatMetablock, rule, signMetablock,
  type ArtifactRule, type Artifacts, type LayoutSigned, type LinkSigned,
} from '../formats/index.js';
import type { KeySigner, PublicKeyInfo } from './keys.js';
import { stepClosure } from './provenance.js';
import type { FileDigest, RunRecord, StepRecord, StepSpec } from './types.js';

// in-toto v0.9 export of a run (docs/in-toto.md): one link per step signed by the workspace key (the
// functionary), and root.layout signed by the layout key, which Debian's `in-toto-verify` (1.3.1) accepts.
// Every rule list ends in `DISALLOW *` (shared/vectors/in-toto/README.md, pitfall 8).

export const LAYOUT_FILE = 'root.layout';
export const OWNER_KEY_FILE = 'owner.pub';
const INSPECTION_NAME = 'evident-check-outputs';
const LAYOUT_LIFETIME_MS = 365 * 24 * 3600 * 1000;

/** Pitfall 7: in-toto-verify finds a step's link by its file name `<step>.<first 8 hex of keyid>.link`. */
export function linkFileName(step: string, keyId: string): string {
  if (step === '.' || step === '..' || /[/\\\0]/.test(step)) {
    throw new EvidentError('INVALID_ARGUMENT', `step name ${JSON.stringify(step)} cannot name an in-toto link file`);
  }
  return `${step}.${keyId.slice(0, 8)}.link`;
}

const artifacts = (files: FileDigest[]): Artifacts => Object.fromEntries(files.map((f) => [f.path, { sha256: f.sha256 }]));

export function stepLink(step: StepRecord): LinkSigned {
  return buildLink({
    name: step.name,
    command: ['/bin/sh', '-c', step.command],
    materials: artifacts(step.inputs),
    products: artifacts(step.outputs),
    byproducts: { 'return-value': step.exitCode },
    environment: {},
  });
}

const metablockSigner = (k: KeySigner) => ({ keyid: k.keyId, sign: (m: Uint8Array) => k.sign(m) });

function writeAtomic(file: string, text: string): void {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(temp, text, { flag: 'wx' });
  fs.renameSync(temp, file);
}

export function writeStepLink(dir: string, step: StepRecord, signer: KeySigner): string {
  const file = path.join(dir, linkFileName(step.name, signer.keyId));
  writeAtomic(file, formatMetablock(signMetablock(stepLink(step), [metablockSigner(signer)])));
  return file;
}

/** Removes links an earlier run left with this key, so a step that does not succeed now has no link. */
export function removeStaleLinks(dir: string, keyId: string): void {
  const suffix = `.${keyId.slice(0, 8)}.link`;
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (name.endsWith(suffix)) fs.rmSync(path.join(dir, name), { force: true });
  }
}

/** A declared input/output (`src/`, `dist`, `*.js`) as an fnmatch pattern, for steps that did not run. */
function declaredPattern(declared: string): string {
  return declared.endsWith('/') ? `${fnmatchEscape(declared.slice(0, -1))}/*` : declared;
}

/** The step among those `step` needs that last produced `file`, preferring one whose product matches. */
function producerOf(file: FileDigest, upstream: StepRecord[]): string | undefined {
  const makers = upstream.filter((r) => r.outputs.some((o) => o.path === file.path));
  const exact = makers.filter((r) => r.outputs.some((o) => o.path === file.path && o.sha256 === file.sha256));
  const pick = (exact.length > 0 ? exact : makers).sort((a, b) => (a.finishedAt < b.finishedAt ? -1 : 1));
  return pick.at(-1)?.name;
}

function layoutStep(spec: StepSpec, run: RunRecord, functionary: PublicKeyInfo): ReturnType<typeof buildStep> {
  const record = run.steps.find((s) => s.name === spec.name && s.exitCode === 0);
  const base = { name: spec.name, pubkeys: [functionary.keyId], threshold: 1, expected_command: ['/bin/sh', '-c', spec.run] };
  if (!record) {
    // Did not run: rules from the declaration; in-toto-verify will report its link missing.
    return buildStep({
      ...base,
      expected_materials: [...spec.inputs.map((i) => rule.allow(declaredPattern(i))), rule.disallow('*')],
      expected_products: [...spec.outputs.map((o) => rule.create(declaredPattern(o))), rule.disallow('*')],
    });
  }
  const upstream = stepClosure(spec.name, run.graph)
    .filter((n) => n !== spec.name)
    .flatMap((n) => run.steps.filter((s) => s.name === n && s.exitCode === 0));
  const materials: ArtifactRule[] = record.inputs.map((m) => {
    const producer = producerOf(m, upstream);
    return producer ? rule.match(fnmatchEscape(m.path), 'PRODUCTS', producer) : rule.allow(fnmatchEscape(m.path));
  });
  const inputs = new Set(record.inputs.map((m) => m.path));
  const products = record.outputs.map((o) => (inputs.has(o.path) ? rule.allow(fnmatchEscape(o.path)) : rule.create(fnmatchEscape(o.path))));
  return buildStep({ ...base, expected_materials: [...materials, rule.disallow('*')], expected_products: [...products, rule.disallow('*')] });
}

/**
 * The inspection's rules. in-toto-verify runs it in its working directory (the workspace) and records
 * every file there (pitfall 10), so: each final output must exist (REQUIRE) and match the products of
 * the step that made it; anything else at an output's place is refused; the rest of the workspace as it
 * was at the end of the run (by top-level name: sources, .evident/, the link directory) is allowed; and
 * whatever is new is refused by the closing `DISALLOW *`.
 */
export function inspectionRules(run: RunRecord, topLevel: { name: string; dir: boolean }[]): ArtifactRule[] {
  const finalOutputs = new Map<string, string>();
  for (const s of run.steps) if (s.exitCode === 0) for (const o of s.outputs) finalOutputs.set(o.path, s.name);
  const paths = [...finalOutputs.keys()].sort();
  const outputDirs = new Set<string>();
  for (const spec of Object.values(run.graph)) {
    for (const o of spec.outputs) {
      const dir = o.replace(/\/+$/, '');
      if (o.endsWith('/') || (dir !== '' && fs.statSync(path.join(run.workspace, dir), { throwIfNoEntry: false })?.isDirectory())) outputDirs.add(dir);
    }
  }
  return [
    ...paths.map((p) => rule.require(p)), // REQUIRE takes a file name, not a pattern
    ...paths.map((p) => rule.match(fnmatchEscape(p), 'PRODUCTS', finalOutputs.get(p)!)),
    ...paths.map((p) => rule.disallow(fnmatchEscape(p))),
    ...[...outputDirs].sort().map((d) => rule.disallow(`${fnmatchEscape(d)}/*`)),
    ...topLevel.map((e) => rule.allow(e.dir ? `${fnmatchEscape(e.name)}/*` : fnmatchEscape(e.name))),
    rule.disallow('*'),
  ];
}

/** Top-level entries of the workspace now, plus .evident/ and the layout files when they go into the workspace root. */
function workspaceTopLevel(workspace: string, linkDir: string): { name: string; dir: boolean }[] {
  const entries = fs.readdirSync(workspace).filter((name) => name !== '.git').sort();
  const listed = entries.map((name) => ({ name, dir: fs.statSync(path.join(workspace, name), { throwIfNoEntry: false })?.isDirectory() ?? false }));
  // Evident's own state (cache, keys, receipts) may be created after the layout is written.
  if (!entries.includes('.evident')) listed.unshift({ name: '.evident', dir: true });
  if (path.resolve(linkDir) === path.resolve(workspace)) {
    for (const name of [LAYOUT_FILE, OWNER_KEY_FILE]) if (!entries.includes(name)) listed.push({ name, dir: false });
  }
  return listed;
}

export function runLayout(run: RunRecord, functionary: PublicKeyInfo, linkDir: string, now = new Date(), version = ''): LayoutSigned {
  const steps = Object.values(run.graph).map((spec) => layoutStep(spec, run, functionary));
  let name = INSPECTION_NAME;
  for (let n = 2; run.graph[name] !== undefined; n++) name = `${INSPECTION_NAME}-${n}`;
  const rules = inspectionRules(run, workspaceTopLevel(run.workspace, linkDir));
  return buildLayout({
    expires: new Date(now.getTime() + LAYOUT_LIFETIME_MS),
    readme: `Pipeline "${run.pipeline}" (attest.yaml sha256:${run.pipelineHash}), layout written by evident run ${version} at ${now.toISOString()}`,
    keys: [functionary.inToto],
    steps,
    inspect: [buildInspection({ name, run: ['true'], expected_materials: rules, expected_products: rules })],
  });
}

/** Writes owner.pub and root.layout (signed by `owner`) into `dir`. */
export function writeLayout(dir: string, run: RunRecord, functionary: PublicKeyInfo, owner: KeySigner, version: string): { layout: string; ownerKey: string } {
  fs.mkdirSync(dir, { recursive: true });
  const layout = runLayout(run, functionary, dir, new Date(), version);
  const ownerKey = path.join(dir, OWNER_KEY_FILE);
  writeAtomic(ownerKey, formatInTotoPublicKey(owner.inToto) + '\n');
  const layoutFile = path.join(dir, LAYOUT_FILE);
  writeAtomic(layoutFile, formatMetablock(signMetablock(layout, [metablockSigner(owner)])));
  return { layout: layoutFile, ownerKey };
}
