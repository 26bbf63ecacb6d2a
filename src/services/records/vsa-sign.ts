import { createHash } from 'node:crypto';
import { EvidentError, toHex } from '../../core/index.js';
import { canonicalJson, type DsseEnvelope, type StatementSubject } from '../../formats/index.js';
import { openCheckpoint, parseVerifierKey, type NoteSigner } from '../../ledger/index.js';
import type { AllowanceRecord, OrgRecord, PolicyRecord, Store } from '../../store/index.js';
import type { Clock } from '../clock.js';
import type { LogService } from '../log-service.js';
import type { ComplianceFacts } from './compliance-facts.js';
import { factSourceClaims } from './fact-claims.js';
import { checkFlowTags } from './projection-check.js';
import { FLOW_POLICY_SOURCE, recheckVsa } from './vsa-recheck.js';
import { BUILT_IN_POLICY_URI, buildVsa, checkpointUri, entryUri, policySetUri, signVsa, type VsaLog } from './vsa.js';

// Signing a decision as a re-checkable VSA (docs/log.md "VSA"): the statement names the checkpoint it was
// decided at and every entry the decision rests on (reports, trails with their templates, attestations, flow
// tag entries, policy versions, exemptions), and the file carries those entries with inclusion proofs. Before
// signing, the server re-checks the file exactly as `evident verify vsa` will: it signs only a verdict that the
// entries themselves give.

export interface VsaScope {
  /** `assert artifact --flow F`: only reports into F count. */
  flowId?: number;
  /** The environment's exemptions in force (their entries are inputs). */
  allowances: readonly AllowanceRecord[];
}

export interface VsaDeps {
  store: Store;
  log: LogService;
  facts: ComplianceFacts;
  signer: NoteSigner;
  clock: Clock;
  /**
   * With witnesses configured: the checkpoint note with the witnesses' cosignatures of exactly that
   * checkpoint (waiting for them a bounded time), or the note as given when they do not cosign it in time.
   */
  cosign?: (org: OrgRecord, note: string) => Promise<string>;
}

export type VsaFile = DsseEnvelope & { evidentLog: VsaLog };

/** Proofs fetched at once (each is a few reads). */
const PROOF_BATCH = 32;
/** More inputs than this make a file nobody wants to download: refused, not truncated. */
const MAX_INPUTS = 10_000;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export async function signRecheckedVsa(
  deps: VsaDeps, org: OrgRecord,
  input: { subject: StatementSubject[]; resourceUri: string; policies: readonly PolicyRecord[]; builtIn: boolean; passed: boolean; scope: VsaScope },
): Promise<VsaFile> {
  const fingerprints = [...new Set(input.subject.map((s) => s.digest.sha256!))];
  // Read (and checked against their entries) before the checkpoint is taken, so every entry is inside it.
  const sources = await deps.facts.sources(org, fingerprints, input.scope.flowId);
  const tagged = await checkFlowTags(deps.facts.check, deps.store, org, sources.flows);
  const indexes = new Set<number>(factSourceClaims(sources).filter((c) => c.table !== 'flows').map((c) => c.entryIndex));
  for (const list of tagged.values()) for (const i of list) indexes.add(i);
  if (!input.builtIn) for (const p of input.policies) indexes.add(p.entryIndex);
  const unreported = fingerprints.filter((fp) => !sources.reports.has(fp));
  if (unreported.length > 0) for (const i of (await deps.facts.provenanceAttested(org, unreported)).entries) indexes.add(i);
  const wanted = new Set(fingerprints);
  for (const a of input.scope.allowances) if (wanted.has(a.fingerprint)) indexes.add(a.entryIndex);
  if (indexes.size > MAX_INPUTS) throw new EvidentError('INVALID_ARGUMENT', `the decision rests on ${indexes.size} log entries, more than a VSA carries (${MAX_INPUTS})`);

  const head = await deps.log.checkpoint(org);
  const note = deps.cosign ? await deps.cosign(org, head) : head;
  const verifier = parseVerifierKey(deps.log.verifierKeyFor(org));
  const cp = openCheckpoint(note, [verifier]);
  const sorted = [...indexes].sort((a, b) => a - b);
  if (sorted.some((i) => i >= cp.size)) throw new EvidentError('CONFLICT', 'the log moved while the decision was made: ask again');
  const entries = await deps.facts.check.entries(org, sorted);
  const carried: VsaLog['entries'] = [];
  for (let i = 0; i < sorted.length; i += PROOF_BATCH) {
    const proofs = await Promise.all(sorted.slice(i, i + PROOF_BATCH).map((index) => deps.log.inclusionProof(org, index, cp.size)));
    for (const proof of proofs) carried.push({ index: proof.index, entry: entries.get(proof.index)!.text, inclusion_proof: proof.hashes });
  }
  const origin = cp.origin;
  const inputAttestations = [
    { uri: checkpointUri(origin, cp.size, toHex(cp.root)), digest: { sha256: sha256(note) } },
    ...carried.map((e) => ({ uri: entryUri(origin, e.index, entries.get(e.index)!.leafHash), digest: { sha256: sha256(e.entry) } })),
  ];
  const statement = buildVsa({
    subject: input.subject,
    verifierId: `urn:evident:verifier:${deps.signer.name}`,
    timeVerified: deps.clock.now().toISOString(),
    resourceUri: input.resourceUri,
    policy: policyDescriptor(origin, input.policies, input.builtIn, entries),
    inputAttestations,
    passed: input.passed,
  });
  const file: VsaFile = { ...signVsa(statement, deps.signer), evidentLog: { checkpoint: note, entries: carried } };
  const recheck = recheckVsa(file, verifier);
  if (!recheck.ok) {
    const first = recheck.checks.find((c) => !c.ok);
    throw new EvidentError('CONFLICT', `the decision could not be re-derived from the log entries it rests on (${first?.message ?? 'unknown'}): nothing was signed; ask again`);
  }
  return file;
}

/** One policy: its entry and the digest of its source. Several: the set by name@version, each also an input entry. */
function policyDescriptor(origin: string, policies: readonly PolicyRecord[], builtIn: boolean, entries: Map<number, { leafHash: string }>) {
  if (builtIn) return { uri: BUILT_IN_POLICY_URI, digest: { sha256: sha256(FLOW_POLICY_SOURCE) } };
  if (policies.length === 1) {
    const p = policies[0]!;
    return { uri: entryUri(origin, p.entryIndex, entries.get(p.entryIndex)!.leafHash), digest: { sha256: p.digest.replace(/^sha256:/, '') } };
  }
  const set = policies.map((p) => ({ name: p.name, version: p.version, digest: p.digest }));
  return { uri: policySetUri(origin, policies.map((p) => `${p.name}@${p.version}`)), digest: { sha256: sha256(canonicalJson(set)) } };
}
