import { EvidentError } from '../../core/index.js';
import type { AttestationTypeRecord, OrgRecord, Store } from '../../store/index.js';
import { checkJqRule, evaluateJqRule } from '../jq.js';
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
}

export interface CustomEvaluation {
  compliant: boolean;
  schema_errors: { path: string; message: string }[];
  rules: { rule: string; ok: boolean; message?: string }[];
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
    const rules = input.rules ?? [];
    if (rules.length > 50) throw new EvidentError('INVALID_ARGUMENT', 'at most 50 jq rules');
    for (const rule of rules) await checkJqRule(rule);
    const { value } = await this.log.append(
      org, 'attestation_type.created', { attestation_type: input.name, description, schema: input.schema, jq_rules: rules },
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

  list(org: OrgRecord): Promise<AttestationTypeRecord[]> {
    return this.store.records.attestationTypes(org.id);
  }

  /** Validates data against the type's schema, then runs every jq rule; compliant iff all pass. */
  async evaluate(type: AttestationTypeRecord, data: unknown): Promise<CustomEvaluation> {
    const validate = compileUserSchema(type.schema);
    const valid = validate(data);
    const schema_errors = valid ? [] : (validate.errors ?? []).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'invalid' }));
    const rules = [];
    for (const rule of type.rules) rules.push({ rule, ...(await evaluateJqRule(rule, data)) });
    return { compliant: schema_errors.length === 0 && rules.every((r) => r.ok), schema_errors, rules };
  }
}
