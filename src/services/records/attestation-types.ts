import { EvidentError } from '../../core/index.js';
import type { AttestationTypeRecord, OrgRecord, Store } from '../../store/index.js';
import { checkJqRule, evaluateJqRule, evaluateJqValue } from '../jq.js';
import { projectionCheck } from './projection-check.js';
import { compileUserSchema } from '../user-schema.js';
import type { LogService } from '../log-service.js';
import * as v from './validate.js';

export interface CreateAttestationTypeInput {
  name: string;
  description?: string;
  /** A JSON Schema (draft 2020-12 or 07, as Ajv supports) the attestation data must satisfy. */
  schema: unknown;
  /** jq programs that must all hold for the data (exit status 0 of `jq -e`). */
  rules?: string[];
  /** Kosli's summary: named jq expressions whose values are shown (and recorded) for each attestation of the type. */
  summary?: SummaryEntry[];
}

export interface SummaryEntry {
  name: string;
  expression: string;
}

export interface CustomEvaluation {
  compliant: boolean;
  schema_errors: { path: string; message: string }[];
  rules: { rule: string; ok: boolean; message?: string }[];
  /** The type's summary expressions evaluated on the data (absent when the type has none). */
  summary?: { name: string; expression: string; value: unknown; message?: string }[];
}

const TYPE_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Custom attestation types (DESIGN.md §1): versioned and immutable; each new definition is a new version. */
export class AttestationTypeService {
  constructor(private readonly store: Store, private readonly log: LogService) {}

  async create(org: OrgRecord, input: CreateAttestationTypeInput): Promise<AttestationTypeRecord> {
    if (typeof input.name !== 'string' || !TYPE_NAME.test(input.name)) {
      throw new EvidentError('INVALID_ARGUMENT', `attestation type name must be 1-64 lower-case letters, digits or '-', not ${JSON.stringify(input.name)}`);
    }
    const description = v.text(input.description ?? '');
    if (typeof input.schema !== 'object' || input.schema === null || Array.isArray(input.schema)) throw new EvidentError('INVALID_ARGUMENT', 'schema must be a JSON object');
    compileUserSchema(input.schema);
    if ((await this.archived(org)).has(input.name)) throw new EvidentError('CONFLICT', `attestation type ${input.name} is archived: it takes no new versions`);
    const rules = input.rules ?? [];
    if (rules.length > 50) throw new EvidentError('INVALID_ARGUMENT', 'at most 50 jq rules');
    for (const rule of rules) await checkJqRule(rule);
    const summary = input.summary ?? [];
    if (summary.length > 50) throw new EvidentError('INVALID_ARGUMENT', 'at most 50 summary entries');
    for (const [i, s] of summary.entries()) {
      if (typeof s?.name !== 'string' || s.name.trim() === '' || s.name.length > 128) throw new EvidentError('INVALID_ARGUMENT', `summary entry ${i + 1}: a name of 1-128 characters`);
      if (typeof s.expression !== 'string') throw new EvidentError('INVALID_ARGUMENT', `summary entry ${i + 1}: an expression`);
      await checkJqRule(s.expression);
    }
    // The summary is part of the signed entry (only when given: earlier entries keep their exact shape), and is
    // read back from that entry, verified, whenever it is shown or used (summaries()).
    const { value } = await this.log.append(
      org, 'attestation_type.created', { attestation_type: input.name, description, schema: input.schema, jq_rules: rules, ...(summary.length ? { summary: summary.map((s) => ({ name: s.name.trim(), expression: s.expression })) } : {}) },
      (records, e) => records.insertAttestationType({
        orgId: org.id, name: input.name, description, schema: input.schema, rules, createdAt: e.time, entryIndex: e.index,
      }),
    );
    return value;
  }

  /** `NAME` (latest version) or `NAME@VERSION`. */
  async get(org: OrgRecord, ref: string): Promise<AttestationTypeRecord> {
    const [name, versionText] = ref.split('@', 2) as [string, string | undefined];
    const version = versionText === undefined ? undefined : Number(versionText);
    if (version !== undefined && !(Number.isSafeInteger(version) && version > 0)) throw new EvidentError('INVALID_ARGUMENT', `bad version in ${JSON.stringify(ref)}`);
    const type = await this.store.records.attestationType(org.id, name, version);
    if (!type) throw new EvidentError('NOT_FOUND', `attestation type ${JSON.stringify(ref)} does not exist in organisation ${org.name}`);
    return type;
  }

  /**
   * Kosli's `archive attestation-type NAME`: one `attestation_type.archived` entry; the type (every version)
   * keeps its history and the attestations made of it, and takes no new attestations or versions. Idempotent.
   */
  async archive(org: OrgRecord, name: string): Promise<string> {
    const type = await this.get(org, name);
    const known = (await this.archived(org)).get(type.name);
    if (known) return known;
    const { value } = await this.log.append(org, 'attestation_type.archived', { attestation_type: type.name }, async (records, e) => {
      await records.insertTypeArchive(org.id, type.name, e.index);
      return e.time;
    });
    return value;
  }

  /** When each archived type was archived, by name, from its verified `attestation_type.archived` entry. */
  async archived(org: OrgRecord): Promise<Map<string, string>> {
    const rows = await this.store.records.typeArchives(org.id);
    const entries = await projectionCheck(this.store).entries(org, rows.values());
    const out = new Map<string, string>();
    for (const [name, index] of rows) {
      const body = entries.get(index)!.body;
      if (body.type !== 'attestation_type.archived' || body.attestation_type !== name) {
        throw new EvidentError('TAMPERED', `attestation_type_archives names log entry ${index} for ${name}, which is a ${String(body.type)}`, { details: { table: 'attestation_type_archives', entry_index: index } });
      }
      out.set(name, String(body.time));
    }
    return out;
  }

  list(org: OrgRecord): Promise<AttestationTypeRecord[]> {
    return this.store.records.attestationTypes(org.id);
  }

  /** Each type's summary (by its entry index), read from its verified `attestation_type.created` entry. */
  async summaries(org: OrgRecord, types: readonly AttestationTypeRecord[]): Promise<Map<number, SummaryEntry[]>> {
    const entries = await projectionCheck(this.store).entries(org, types.map((t) => t.entryIndex));
    const out = new Map<number, SummaryEntry[]>();
    for (const t of types) {
      const body = entries.get(t.entryIndex)!.body;
      if (body.type !== 'attestation_type.created' || body.attestation_type !== t.name) {
        throw new EvidentError('TAMPERED', `attestation_types row of ${t.name} names log entry ${t.entryIndex}, which is a ${String(body.type)}`, { details: { table: 'attestation_types', entry_index: t.entryIndex } });
      }
      if (Array.isArray(body.summary)) out.set(t.entryIndex, body.summary as SummaryEntry[]);
    }
    return out;
  }

  /** Validates data against the type's schema, then runs every jq rule; compliant iff all pass. Summary values are shown, never judged. */
  async evaluate(type: AttestationTypeRecord, data: unknown, summary: readonly SummaryEntry[] = []): Promise<CustomEvaluation> {
    const validate = compileUserSchema(type.schema);
    const valid = validate(data);
    const schema_errors = valid ? [] : (validate.errors ?? []).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'invalid' }));
    const rules = [];
    for (const rule of type.rules) rules.push({ rule, ...(await evaluateJqRule(rule, data)) });
    const values = [];
    for (const s of summary) values.push({ ...s, ...(await evaluateJqValue(s.expression, data)) });
    return { compliant: schema_errors.length === 0 && rules.every((r) => r.ok), schema_errors, rules, ...(summary.length ? { summary: values } : {}) };
  }
}
