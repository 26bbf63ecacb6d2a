import { EvidentError } from '../../core/index.js';
import { junitCompliant, mergeJUnit, sarifCompliant, type SarifReport, type SarifThreshold } from '../../formats/index.js';
import type { AttestationRecord, OrgRecord } from '../../store/index.js';
import type { VaultService } from '../vault.js';
import { ParsePool } from '../parse-pool.js';
import { parseAttestationName, type AttestationInput, type AttestationService } from './attestations.js';

/** Evidence files parsed by the server are limited like the parsers' own input limit. */
const MAX_PARSED_BYTES = 50 * 1024 * 1024;

export interface EvidenceAttestationInput extends AttestationInput {
  /** Digests of files already uploaded to the org's vault: the reports to parse. */
  reports: string[];
}

export interface SarifAttestationInput extends EvidenceAttestationInput {
  threshold?: SarifThreshold;
}

export interface ProvenanceAttestationInput extends AttestationInput {
  /** Digest of the uploaded provenance file: a DSSE envelope, or a bare in-toto statement. */
  envelope: string;
}

/**
 * Attestations whose compliance the server derives from evidence files in the vault: test results
 * (JUnit XML) and scan results (SARIF). The client cannot claim a result: the server parses the very
 * bytes the attestation commits to, by digest.
 */
export class EvidenceAttestationService {
  /** Reports are parsed off the event loop (parse-pool.ts). */
  constructor(private readonly attestations: AttestationService, private readonly vault: VaultService, private readonly parser: ParsePool = new ParsePool({ workers: 0 })) {}

  /** JUnit XML (all files merged): compliant iff no failures and no errors. */
  async junit(org: OrgRecord, input: EvidenceAttestationInput): Promise<AttestationRecord> {
    const files = await this.read(org, input.reports);
    const report = mergeJUnit(await Promise.all(files.map((f) => this.parser.parse('junit', f.bytes, f.name))));
    const summary = { ...report, files: files.map((f) => ({ name: f.name, digest: f.digest })) };
    return this.attestations.record(org, 'junit', withReports(input), junitCompliant(report), summary);
  }

  /** SARIF 2.1.0 from any scanner (`snyk` is the same, named as Kosli does): compliant per the threshold. */
  async sarif(org: OrgRecord, type: 'sarif' | 'snyk', input: SarifAttestationInput): Promise<AttestationRecord> {
    const files = await this.read(org, input.reports);
    const reports = await Promise.all(files.map((f) => this.parser.parse('sarif', f.bytes, f.name)));
    const merged = mergeSarif(reports);
    const threshold = input.threshold ?? {};
    const summary = { ...merged, threshold, files: files.map((f) => ({ name: f.name, digest: f.digest })) };
    return this.attestations.record(org, type, withReports(input), reports.every((r) => sarifCompliant(r, threshold)), summary);
  }

  /**
   * SLSA provenance (docs/provenance.md "Recording provenance"): the file is checked (parseProvenanceDocument)
   * and recorded once per artifact it is about — the given fingerprint, which must be one of its subjects,
   * or else every artifact of the trail whose fingerprint is a subject's SHA-256 (only the artifact named by
   * an `ARTIFACT.NAME` attestation name, when the name has one). Nothing is recorded when
   * the file is invalid or binds to no artifact. The file is the attestation's evidence.
   */
  async provenance(org: OrgRecord, input: ProvenanceAttestationInput): Promise<AttestationRecord[]> {
    const { artifactName } = parseAttestationName(input.name);
    const [file] = await this.read(org, [input.envelope]);
    const doc = await this.parser.parse('provenance', file!.bytes, file!.name);
    const digests = new Set(doc.subjects.map((s) => s.sha256));
    const listed = [...digests].slice(0, 10).join(', ') + (digests.size > 10 ? ', …' : '');
    let targets: string[];
    if (input.fingerprint !== undefined && input.fingerprint !== null) {
      if (!digests.has(input.fingerprint)) {
        throw new EvidentError('INVALID_ARGUMENT', `fingerprint ${input.fingerprint} is not the SHA-256 of any subject of the provenance (subjects: ${listed})`, { details: [{ path: 'fingerprint', message: 'not a subject of the provenance' }] });
      }
      targets = [input.fingerprint];
    } else {
      targets = await this.attestations.reportedIn(org, input.flow, input.trail, digests, artifactName);
      if (targets.length === 0) {
        const which = artifactName === null ? 'no artifact' : `no artifact named ${artifactName}`;
        throw new EvidentError('INVALID_ARGUMENT', `${which} of trail ${input.trail} has the fingerprint of a subject of the provenance (subjects: ${listed}): report the artifact first, or give its fingerprint`, { details: [{ path: 'fingerprint', message: 'no artifact to bind to' }] });
      }
    }
    const summary = (fingerprint: string) => ({
      subject: doc.subjects.find((s) => s.sha256 === fingerprint)?.name ?? null, subjects: doc.subjects.length, builder_id: doc.builderId,
      build_type: doc.buildType, enveloped: doc.enveloped, signatures: doc.signatures, file: { name: file!.name, digest: file!.digest },
    });
    const evidence = withReports({ ...input, reports: [input.envelope] });
    const out: AttestationRecord[] = [];
    for (const fingerprint of targets.sort()) out.push(await this.attestations.record(org, 'provenance', { ...evidence, fingerprint }, true, summary(fingerprint)));
    return out;
  }

  private async read(org: OrgRecord, digests: string[]): Promise<{ digest: string; name: string; bytes: Uint8Array }[]> {
    if (!Array.isArray(digests) || digests.length === 0) throw new EvidentError('INVALID_ARGUMENT', 'give at least one report file (uploaded evidence digest)', { details: [{ path: 'reports', message: 'empty' }] });
    if (digests.length > 1000) throw new EvidentError('INVALID_ARGUMENT', 'at most 1000 report files');
    const out = [];
    for (const digest of digests) {
      const item = await this.vault.get(org, digest);
      if (item.size > MAX_PARSED_BYTES) {
        item.stream.destroy();
        throw new EvidentError('PAYLOAD_TOO_LARGE', `report ${item.name ?? digest} is ${item.size} bytes; reports are parsed up to ${MAX_PARSED_BYTES}`);
      }
      const chunks: Buffer[] = [];
      for await (const chunk of item.stream) chunks.push(chunk as Buffer);
      out.push({ digest, name: item.name ?? `sha256:${digest.slice(0, 12)}`, bytes: Buffer.concat(chunks) });
    }
    return out;
  }
}

/** The report files are evidence of the attestation too. */
function withReports(input: EvidenceAttestationInput): AttestationInput {
  const evidence = [...(input.evidence ?? [])];
  for (const digest of input.reports) if (!evidence.includes(digest)) evidence.push(digest);
  return { ...input, evidence };
}

function mergeSarif(reports: SarifReport[]): SarifReport {
  const sum = <K extends string>(pick: (r: SarifReport) => Record<K, number>) =>
    reports.reduce((acc, r) => {
      for (const [k, n] of Object.entries(pick(r)) as [K, number][]) acc[k] = (acc[k] ?? 0) + n;
      return acc;
    }, {} as Record<K, number>);
  return {
    tools: [...new Set(reports.flatMap((r) => r.tools))],
    results: reports.reduce((n, r) => n + r.results, 0),
    suppressed: reports.reduce((n, r) => n + r.suppressed, 0),
    by_level: sum((r) => r.by_level),
    by_severity: sum((r) => r.by_severity),
    rules: reports.reduce((n, r) => n + r.rules, 0),
    top: reports.flatMap((r) => r.top).slice(0, 50),
  };
}
