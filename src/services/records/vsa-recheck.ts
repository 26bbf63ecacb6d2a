import { createHash } from 'node:crypto';
import { fromHex } from '../../core/index.js';
import {
  ENVIRONMENT_POLICY_SCHEMA_ID, IN_TOTO_PAYLOAD_TYPE, parseEnvelope, parseEnvironmentPolicy, parseStatement, verifyEnvelope,
  type CompiledPolicy,
} from '../../formats/index.js';
import { leafHash, openCheckpoint, renamedVerifier, verifyInclusion, type NoteVerifier } from '../../ledger/index.js';
import { decidePolicy } from './compliance.js';
import { factsFromSources } from './compliance-sources.js';
import { templateOf } from './templates.js';
import { sourcesFromEntries, type LoggedEntry } from './vsa-entries.js';
import { BUILT_IN_POLICY_URI, VSA_PREDICATE_TYPE, parseEvidentUri, type VsaLog, type VsaPredicate } from './vsa.js';

// Re-checking a VSA offline (`evident verify vsa`, and the server itself before it signs one): the signature,
// the checkpoint note, each named entry's digest, leaf hash and inclusion proof, then the decision recomputed
// from the entries' contents alone with the same evaluation the server uses. docs/log.md "VSA" says the same
// for a third party.

/** When no policy is named: Kosli's `assert artifact` without an environment asks for compliance in its flow. */
export const FLOW_POLICY_SOURCE = `_schema: ${ENVIRONMENT_POLICY_SCHEMA_ID}\nartifacts:\n  provenance: {required: true}\n  trail-compliance: {required: true}\n`;

export interface VsaCheck {
  ok: boolean;
  message: string;
}

export interface VsaRecheck {
  /** True when every check passed and the recomputed verdict equals the signed one. */
  ok: boolean;
  /** The file is not a VSA at all (exit 2 rather than 1). */
  malformed: boolean;
  checks: VsaCheck[];
  signed: 'PASSED' | 'FAILED' | null;
  recomputed: 'PASSED' | 'FAILED' | null;
  checkpoint: { origin: string; size: number; root: string } | null;
  /** Each subject's recomputed compliance. */
  subjects: { name: string; fingerprint: string; compliant: boolean }[];
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const encoder = new TextEncoder();

class Stop extends Error {}

/** Re-checks a VSA file's content (the DSSE envelope with its `evidentLog`) against the log key `verifier`. */
export function recheckVsa(file: unknown, verifier: NoteVerifier): VsaRecheck {
  const out: VsaRecheck = { ok: false, malformed: false, checks: [], signed: null, recomputed: null, checkpoint: null, subjects: [] };
  const pass = (message: string) => out.checks.push({ ok: true, message });
  const fail = (message: string, malformed = false): never => {
    out.checks.push({ ok: false, message });
    out.malformed = malformed;
    throw new Stop();
  };
  try {
    run(file, verifier, out, pass, fail);
    out.ok = out.checks.every((c) => c.ok);
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
  return out;
}

function run(file: unknown, verifier: NoteVerifier, out: VsaRecheck, pass: (m: string) => void, fail: (m: string, malformed?: boolean) => never): void {
  let envelope;
  try {
    envelope = parseEnvelope(file);
  } catch (err) {
    fail(`not a DSSE envelope: ${(err as Error).message}`, true);
  }
  if (envelope!.payloadType !== IN_TOTO_PAYLOAD_TYPE) fail(`payloadType is ${envelope!.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`, true);
  if (verifyEnvelope(envelope!, [verifier]).length === 0) fail(`no signature by the log key ${verifier.name} (DSSE PAE, Ed25519)`);
  pass(`Signed by the log key ${verifier.name}`);
  let statement;
  try {
    statement = parseStatement(JSON.parse(Buffer.from(envelope!.payload).toString('utf8')));
  } catch (err) {
    fail(`the payload is not an in-toto Statement v1: ${(err as Error).message}`, true);
  }
  if (statement!.predicateType !== VSA_PREDICATE_TYPE) fail(`predicateType is ${statement!.predicateType}, not ${VSA_PREDICATE_TYPE}`, true);
  const p = statement!.predicate as unknown as VsaPredicate;
  out.signed = p.verificationResult === 'PASSED' ? 'PASSED' : 'FAILED';
  if (p.verificationResult !== 'PASSED' && p.verificationResult !== 'FAILED') fail('verificationResult is neither PASSED nor FAILED', true);
  if ((p.verificationResult === 'FAILED') !== (p.verifiedLevels ?? []).includes('FAILED')) fail('verifiedLevels contradicts verificationResult');

  const log = (file as { evidentLog?: VsaLog }).evidentLog;
  if (!log || typeof log.checkpoint !== 'string' || !Array.isArray(log.entries)) fail('the file carries no evidentLog (checkpoint and entries): nothing to recompute from');
  let checkpoint;
  try {
    checkpoint = openCheckpoint(log!.checkpoint, [verifier, ...sameKeyNamedForOrigin(verifier, log!.checkpoint)]);
  } catch (err) {
    fail(`the carried checkpoint: ${(err as Error).message}`);
  }
  const cp = checkpoint!;
  const rootHex = Buffer.from(cp.root).toString('hex');
  out.checkpoint = { origin: cp.origin, size: cp.size, root: rootHex };
  const inputs = Array.isArray(p.inputAttestations) ? p.inputAttestations : [];
  const named = inputs.map((x) => ({ ...x, parsed: typeof x?.uri === 'string' ? parseEvidentUri(x.uri) : undefined }));
  const cps = named.filter((x) => x.parsed?.kind === 'checkpoint');
  if (cps.length !== 1) fail(`the VSA must name exactly one checkpoint among its inputAttestations, not ${cps.length}`);
  const c = cps[0]!.parsed as Extract<typeof cps[0]['parsed'], { kind: 'checkpoint' }>;
  if (c.origin !== cp.origin || c.size !== cp.size || c.root !== rootHex || cps[0]!.digest?.sha256 !== sha256(log!.checkpoint)) {
    fail(`the carried checkpoint (size ${cp.size}) is not the one the VSA names (size ${c.size})`);
  }
  pass(`Checkpoint ${cp.origin} size ${cp.size} signed by the log key, as the VSA names it`);

  const carried = new Map<number, VsaLog['entries'][number]>();
  for (const e of log!.entries) if (e && Number.isSafeInteger(e.index)) carried.set(e.index, e);
  const entries: LoggedEntry[] = [];
  const bodies = new Map<number, Record<string, unknown>>();
  for (const x of named) {
    if (x.parsed?.kind !== 'entry') continue;
    const { index, leaf, origin } = x.parsed;
    if (origin !== cp.origin) fail(`input entry ${index} is in log ${origin}, not ${cp.origin}`);
    const e = carried.get(index);
    if (!e || typeof e.entry !== 'string') fail(`input entry ${index} is named but not carried: an input was left out`);
    const text = e!.entry;
    if (x.digest?.sha256 !== sha256(text)) fail(`input entry ${index}: its sha256 is not the digest the VSA names`);
    const lh = leafHash(encoder.encode(text));
    if (Buffer.from(lh).toString('hex') !== leaf) fail(`input entry ${index}: its leaf hash is not the one the VSA names`);
    try {
      verifyInclusion(index, cp.size, lh, (e!.inclusion_proof ?? []).map((h) => fromHex(h, 'inclusion_proof', 32)), cp.root);
    } catch (err) {
      fail(`input entry ${index}: inclusion proof to size ${cp.size}: ${(err as Error).message}`);
    }
    const body = JSON.parse(text) as Record<string, unknown>;
    bodies.set(index, body);
    entries.push({ index, body });
  }
  pass(`${entries.length} input entries carried, each with its digest, leaf hash and inclusion proof`);

  const policies = policiesOf(p, bodies, fail);
  const { sources, trailsMissing, provenanceAttested } = sourcesFromEntries(entries);
  if (trailsMissing.length > 0) fail(`inputs missing: the trail.begun entry of ${trailsMissing.join(', ')} (its template) is not among the inputs`);
  const environment = /^urn:evident:[^:]+:(?:environment|snapshot):([^#]+)/.exec(p.resourceUri ?? '')?.[1];
  const allowed = new Set<string>();
  for (const e of entries) if (e.body.type === 'artifact.allowed' && e.body.environment === environment) allowed.add(String(e.body.fingerprint));
  const subjects = statement!.subject.map((s) => ({ name: s.name, fingerprint: s.digest.sha256 ?? '' }));
  const facts = factsFromSources(sources, subjects, template, undefined, provenanceAttested);
  out.subjects = subjects.map((s, i) => ({
    ...s, compliant: allowed.has(s.fingerprint) || policies.every((pol) => decidePolicy(pol.compiled, facts[i]!, s.name, pol.label).compliant),
  }));
  out.recomputed = out.subjects.every((s) => s.compliant) ? 'PASSED' : 'FAILED';
  if (out.recomputed !== out.signed) fail(`the verdict recomputed from the entries is ${out.recomputed}; the VSA says ${out.signed}`);
  pass(`Verdict recomputed from the entries: ${out.recomputed} (${policies.map((x) => x.label).join(', ') || 'no policy'}), as signed`);
}

/** The policies the decision was made against: the built-in one, or the policy.created entries among the inputs. */
function policiesOf(p: VsaPredicate, bodies: Map<number, Record<string, unknown>>, fail: (m: string) => never): { compiled: CompiledPolicy; label: string }[] {
  if (p.policy?.uri === BUILT_IN_POLICY_URI) return [{ compiled: parseEnvironmentPolicy(FLOW_POLICY_SOURCE, 'flow-compliance.yml'), label: 'flow-compliance@1' }];
  const named = parseEvidentUri(p.policy?.uri ?? '');
  if (named?.kind === 'entry' && bodies.get(named.index)?.type !== 'policy.created') fail(`policy.uri names entry ${named.index}, which is not a policy.created input`);
  const out: { compiled: CompiledPolicy; label: string }[] = [];
  for (const [index, body] of [...bodies].sort(([a], [b]) => a - b)) {
    if (body.type !== 'policy.created') continue;
    if (typeof body.source !== 'string' || body.digest !== `sha256:${sha256(body.source)}`) fail(`policy entry ${index}: its source does not match its digest`);
    try {
      out.push({ compiled: compiledPolicy(String(body.digest), body.source as string, `${String(body.policy)}.yml`), label: `${String(body.policy)} (entry ${index})` });
    } catch (err) {
      fail(`policy entry ${index} does not parse: ${(err as Error).message}`);
    }
  }
  if (named?.kind === 'entry' && p.policy.digest?.sha256 !== String(bodies.get(named.index)?.digest ?? '').replace(/^sha256:/, '')) {
    fail(`policy.digest is not the digest of the policy entry ${named.index}`);
  }
  return out;
}

// As the server reads them (templates.ts): a stored template was checked when stored, and an unreadable one
// asks for nothing. Shared with the server's cache, so re-checking a VSA it just decided parses nothing again.
const template = templateOf;

/** Policies re-checked recently, by digest (verified against the source above): up to 256 KiB of YAML each. */
const compiledPolicies = new Map<string, CompiledPolicy>();

function compiledPolicy(digest: string, source: string, file: string): CompiledPolicy {
  let compiled = compiledPolicies.get(digest);
  if (!compiled) {
    compiled = parseEnvironmentPolicy(source, file);
    if (compiledPolicies.size >= 100) compiledPolicies.delete(compiledPolicies.keys().next().value!);
    compiledPolicies.set(digest, compiled);
  }
  return compiled;
}

/**
 * Each org's checkpoints are signed by the log key under a key name equal to their origin (C2SP
 * tlog-checkpoint: the names SHOULD match), which gives them another key ID: the same public key, renamed.
 */
function sameKeyNamedForOrigin(verifier: NoteVerifier, note: string): NoteVerifier[] {
  const origin = note.split('\n', 1)[0] ?? '';
  if (origin === verifier.name) return [];
  try {
    return [renamedVerifier(verifier, origin)];
  } catch {
    return []; // not a valid key name: only the key as given can have signed it
  }
}
