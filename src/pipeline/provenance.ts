import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { EvidentError } from '../core/index.js';
import {
  EVIDENT_RUN_BUILD_TYPE, IN_TOTO_PAYLOAD_TYPE, SLSA_PROVENANCE_V1, buildProvenance, buildStatement, signEnvelope,
  type DsseEnvelope, type ResourceDescriptor, type SlsaProvenance, type Statement,
} from '../formats/index.js';
import { loadWorkspaceSigner, type KeySigner } from './keys.js';
import type { StatMemo } from './stat-memo.js';
import type { StepRecord, StepSpec } from './types.js';

// Per-artifact provenance (docs/provenance.md): every file a step declares as output gets its own in-toto
// Statement v1 with a SLSA Provenance v1 predicate, in a DSSE envelope, written as soon as the step
// succeeds. It covers only the steps the artifact's step transitively `needs` (graph reachability), which
// is what Tekton Chains issue #850 asked for: a later or unrelated failure neither withholds it nor
// leaks into it.

export const BUILDER_ID = 'https://evident.dev/builders/evident-run/v1';

export interface ProvenanceContext {
  pipeline: string;
  graph: Record<string, StepSpec>;
  succeeded: ReadonlyMap<string, StepRecord>;
  /** One id per run (`urn:uuid:…`), shared by every statement of the run. */
  invocationId: string;
  version: string;
  /** Hex SHA-256 of attest.yaml, when the runner provides it. */
  pipelineHash?: string;
  /** The cache's stat memo: remembers statements already checked on a hit (stillValid). */
  memo?: StatMemo;
}

/**
 * `name` and every step it transitively needs, dependencies first (a depth-first post-order, visiting
 * needs in name order so the result does not depend on the order attest.yaml lists them).
 */
export function stepClosure(name: string, graph: Record<string, StepSpec>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (step: string, trail: string[]): void => {
    if (state.get(step) === 'done') return;
    if (state.get(step) === 'visiting') throw new EvidentError('INVALID_ARGUMENT', `the pipeline has a cycle: ${[...trail, step].join(' -> ')}`);
    state.set(step, 'visiting');
    for (const need of [...(graph[step]?.needs ?? [])].sort()) visit(need, [...trail, step]);
    state.set(step, 'done');
    order.push(step);
  };
  visit(name, []);
  return order;
}

function recordsFor(step: StepRecord, ctx: ProvenanceContext): StepRecord[] {
  return stepClosure(step.name, ctx.graph).map((name) => {
    if (name === step.name) return step;
    const record = ctx.succeeded.get(name);
    if (!record) throw new EvidentError('INTERNAL', `provenance for step ${step.name}: the step it needs, ${name}, has not succeeded`);
    return record;
  });
}

/**
 * The inputs of the given steps, one entry per distinct (path, digest), sorted. A workspace path is not a
 * URI (it has no scheme and may hold spaces or `[`): it goes in `name` (in-toto ResourceDescriptor: "a name
 * for the resource, such as a file name"), identified by its digest.
 */
function dependencies(records: StepRecord[]): ResourceDescriptor[] {
  const seen = new Map<string, ResourceDescriptor>();
  for (const r of records) for (const f of r.inputs) seen.set(`${f.path}\0${f.sha256}`, { name: f.path, digest: { sha256: f.sha256 } });
  // A container step's image is a dependency like its inputs (SLSA v1: "the build environment … resolved"),
  // named as written and identified by its image ID.
  for (const r of records) {
    const at = r.image?.lastIndexOf('@sha256:') ?? -1;
    if (r.image !== undefined && at > 0) seen.set(`\0image\0${r.image}`, { name: r.image.slice(0, at), digest: { sha256: r.image.slice(at + 8) } });
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

/** The SLSA predicate shared by every output of `step` (buildType documented in docs/provenance.md). */
export function stepProvenance(step: StepRecord, ctx: ProvenanceContext): SlsaProvenance {
  const records = recordsFor(step, ctx);
  const internal: Record<string, unknown> = {
    steps: records.map((r) => ({ name: r.name, cache: r.cache, cacheKey: r.key, exitCode: r.exitCode, isolation: r.isolation ?? 'process', ...(r.image ? { image: r.image } : {}), startedOn: r.startedAt, finishedOn: r.finishedAt })),
  };
  if (ctx.pipelineHash !== undefined) internal.pipelineHash = `sha256:${ctx.pipelineHash}`;
  const startedOn = records.map((r) => r.startedAt).sort()[0] ?? step.startedAt;
  return buildProvenance(
    {
      buildType: EVIDENT_RUN_BUILD_TYPE,
      externalParameters: {
        pipeline: ctx.pipeline,
        step: step.name,
        steps: records.map((r) => ({ name: r.name, command: r.command, needs: [...r.needs], env: { ...r.env } })),
      },
      internalParameters: internal,
      resolvedDependencies: dependencies(records),
    },
    { builder: { id: BUILDER_ID, version: { evident: ctx.version } }, metadata: { invocationId: ctx.invocationId, startedOn, finishedOn: step.finishedAt } },
  );
}

/** One statement per output file of `step`. */
export function artifactStatements(step: StepRecord, ctx: ProvenanceContext): { path: string; statement: Statement<SlsaProvenance> }[] {
  const predicate = stepProvenance(step, ctx);
  return step.outputs.map((out) => ({
    path: out.path,
    statement: buildStatement([{ name: out.path, digest: { sha256: out.sha256 } }], SLSA_PROVENANCE_V1, predicate),
  }));
}

/**
 * A file name for any text: percent-encoded (so `/` and `..` cannot make it leave its directory, and a
 * leading `.` does not hide it), or, when that would be too long for a file system, a prefix plus a hash.
 */
function safeFileName(text: string): string {
  const encoded = encodeURIComponent(text).replace(/^\./, '%2E');
  return encoded.length <= 200 ? encoded : `${encoded.slice(0, 120)}~${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
}

/** `.evident/provenance/<step>/<output path>.intoto.json`, both parts made safe by safeFileName. */
export function provenanceFile(workspace: string, step: string, outputPath: string): string {
  return path.join(workspace, '.evident', 'provenance', safeFileName(step), `${safeFileName(outputPath)}.intoto.json`);
}

/** The envelope of one statement: signed by `signer`, or `signatures: []` when the user did not ask to sign. */
export function envelopeFor(statement: Statement<unknown>, signer: KeySigner | undefined): DsseEnvelope {
  const payload = new TextEncoder().encode(JSON.stringify(statement));
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, signer ? [{ keyid: signer.keyId, sign: (m) => signer.sign(m) }] : []);
}

/**
 * The statement already at `file` still describes this output of this step: same subject digest, made by
 * a step with this cache key, and signed by `signer` when one is asked for. On a cache hit that is the
 * statement of the build that made the artifact, which stays true (same inputs, same outputs): it is kept
 * rather than replaced by one describing a run that built nothing (docs/provenance.md "Cache hits").
 */
function parsedStillValid(file: string, step: StepRecord, sha256: string, signer: KeySigner | undefined): boolean {
  try {
    const envelope = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DsseEnvelope>;
    if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE || typeof envelope.payload !== 'string') return false;
    if (signer && !envelope.signatures?.some((s) => s.keyid === signer.keyId)) return false;
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Statement<SlsaProvenance>;
    const made = (statement.predicate?.buildDefinition?.internalParameters as { steps?: { name?: string; cacheKey?: string }[] } | undefined)?.steps?.at(-1);
    return statement.subject?.length === 1 && statement.subject[0]!.digest.sha256 === sha256 && made?.name === step.name && made.cacheKey === step.key;
  } catch {
    return false;
  }
}

/**
 * parsedStillValid, remembered in the cache's stat memo: a statement checked once is not read and parsed
 * again while stat (size, times, inode) says the file is the one that was checked — the trust a warm run
 * already gives its outputs' digests (restore.ts). Parsing was most of the hit path's allocation: the
 * statement of a step deep in a DAG lists every step it needs (23 KB for the 10th layer of the bench).
 * The memo's value is a digest of what was checked, so a statement checked for another digest, key or
 * signer is parsed again. Keys are absolute paths, which the memo's workspace-relative keys never are.
 */
/** What the stat memo remembers about a statement that passed parsedStillValid for this output, step and signer. */
export function provenanceVerdict(step: Pick<StepRecord, 'name' | 'key'>, sha256: string, signer?: Pick<KeySigner, 'keyId'>): string {
  return createHash('sha256').update(JSON.stringify(['provenance-valid/v1', sha256, step.name, step.key, signer?.keyId ?? ''])).digest('hex');
}

function stillValid(file: string, step: StepRecord, sha256: string, signer: KeySigner | undefined, memo: StatMemo | undefined): boolean {
  if (!memo) return parsedStillValid(file, step, sha256, signer);
  const before = fs.statSync(file, { throwIfNoEntry: false });
  if (!before?.isFile()) return false;
  const verdict = provenanceVerdict(step, sha256, signer);
  if (memo.lookup(file, before) === verdict) return true;
  const checkedAt = Date.now();
  if (!parsedStillValid(file, step, sha256, signer)) return false;
  const after = fs.statSync(file, { throwIfNoEntry: false });
  if (after && after.mtimeMs === before.mtimeMs && after.ctimeMs === before.ctimeMs && after.size === before.size && after.ino === before.ino) memo.record(file, after, verdict, checkedAt);
  return true;
}

/**
 * Writes every output's envelope under `.evident/provenance/<step>/`; returns the files written. On a cache
 * hit, an output whose statement is still valid (stillValid) keeps it and is not in the result.
 */
export function writeStepProvenance(workspace: string, step: StepRecord, ctx: ProvenanceContext, signer: KeySigner | undefined): string[] {
  const stale = step.cache === 'hit' ? step.outputs.filter((out) => !stillValid(provenanceFile(workspace, step.name, out.path), step, out.sha256, signer, ctx.memo)) : step.outputs;
  if (stale.length === 0) return [];
  fs.mkdirSync(path.dirname(provenanceFile(workspace, step.name, 'x')), { recursive: true });
  const wanted = new Set(stale.map((out) => out.path));
  return artifactStatements(step, ctx).filter(({ path: out }) => wanted.has(out)).map(({ path: out, statement }) => {
    const file = provenanceFile(workspace, step.name, out);
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(envelopeFor(statement, signer), null, 2) + '\n', { flag: 'wx' });
    fs.renameSync(temp, file);
    return file;
  });
}

/**
 * The statement of a directory output reported as one artifact (`evident run --report`, Kosli's `dir`
 * fingerprint): the predicate of the step's statement for one of the directory's files — every output
 * of a step shares it — with the directory as its one subject. Written beside the files' statements
 * (`.evident/provenance/<step>/<dir>%2F.intoto.json`) and signed by the workspace key when the file's
 * statement was signed. Undefined when that statement is missing or unreadable.
 */
export function writeDirectoryProvenance(workspace: string, step: string, dir: string, fingerprint: string, fromFile: string): string | undefined {
  let statement: Statement<SlsaProvenance>;
  let signed: boolean;
  try {
    const envelope = JSON.parse(fs.readFileSync(provenanceFile(workspace, step, fromFile), 'utf8')) as DsseEnvelope;
    statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Statement<SlsaProvenance>;
    signed = envelope.signatures.length > 0;
  } catch {
    return undefined;
  }
  const name = dir.endsWith('/') ? dir : `${dir}/`;
  const file = provenanceFile(workspace, step, name);
  const signer = signed ? loadWorkspaceSigner(workspace) : undefined;
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(envelopeFor(buildStatement([{ name, digest: { sha256: fingerprint } }], SLSA_PROVENANCE_V1, statement.predicate), signer), null, 2) + '\n', { flag: 'wx' });
  fs.renameSync(temp, file);
  return file;
}
