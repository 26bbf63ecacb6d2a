import type { Node } from 'yaml';
import { EvidentError } from '../core/index.js';
import { ATTESTATION_TYPES, CUSTOM_TYPE_PATTERN, TEMPLATE_NAME_PATTERN, attestationTypeProblem } from './flow-template.js';
import { ExpressionSyntaxError, formatLocated, type LocatedProblem } from './policy-expr-errors.js';
import { compileExpression, type CompiledExpression } from './policy-expr-eval.js';
import { YamlFile, joinPath } from './yaml-walk.js';

// Environment policies: Kosli's format (https://docs.kosli.com/policy-reference/environment_policy and its JSON
// Schema https://docs.kosli.com/schemas/policy/v1.json), so Kosli users' files work unchanged:
//
//   _schema: https://docs.kosli.com/schemas/policy/v1
//   artifacts:
//     provenance: {required: true, exceptions: [{if: '${{ matches(artifact.name, "^datadog:.*") }}'}]}
//     trail-compliance: {required: true}
//     attestations:
//     - {name: unit-tests, type: junit, if: '${{ flow.tags.risk-level == "high" }}'}
//
// Defaults as Kosli's: `required: false`, `exceptions: []`, `attestations: []`, an attestation rule's `name: *`
// (any name; not together with `type: *`). `must_be_compliant` (default true) is the field Kosli's API returns
// for every attestation rule: false asks only that the attestation exists. Unknown keys are refused; every `if`
// is parsed when the file is read, so a malformed one is refused, with its line and column, before anything is
// stored. Stricter than Kosli's schema: an exception needs its `if`, and a rule's `name` is `*` or a name
// Evident can record.
//
// `_schema` (required): Kosli's own URLs, whose last segment is the major version (only v1 exists), and Evident's
// `/api/v1/schemas/environment-policy/v1`, as a path or on any http(s) host: a policy names the format, not the
// server, so a file keeps working when copied between Evident servers.

export const ENVIRONMENT_POLICY_SCHEMA_ID = '/api/v1/schemas/environment-policy/v1';
export const KOSLI_POLICY_SCHEMA_URL = 'https://docs.kosli.com/schemas/policy/v1';
/** Kosli's URLs (docs.kosli.com now; kosli.mintlify.app and kosli.com/schemas/policy/environment/v1 in older docs) and Evident's. */
export const POLICY_SCHEMA_PATTERN =
  '^(?:https://(?:docs\\.kosli\\.com|kosli\\.com|www\\.kosli\\.com|kosli\\.mintlify\\.app)/schemas/policy/(?:environment/)?v1' +
  '|(?:https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?)?/api/v1/schemas/environment-policy/v1)$';
export const POLICY_MAX_CHARS = 256 * 1024;
export const POLICY_MAX_RULES = 1000;
export const POLICY_MAX_EXCEPTIONS = 100;

const SCHEMA_URL = new RegExp(POLICY_SCHEMA_PATTERN);
const NAME = new RegExp(TEMPLATE_NAME_PATTERN);

export interface PolicyException {
  if: string;
}

export interface BooleanRule {
  required: boolean;
  exceptions: PolicyException[];
}

export interface AttestationRule {
  /** `*` for any name. */
  name: string;
  /** A built-in type, `custom:<name>`, or `*`. */
  type: string;
  must_be_compliant: boolean;
  /** When present, the rule applies only to artifacts for which it is true. */
  if?: string;
}

/** A policy with every default filled in: what is stored and shown. */
export interface PolicyDefinition {
  _schema: string;
  artifacts: { provenance: BooleanRule; 'trail-compliance': BooleanRule; attestations: AttestationRule[] };
}

export interface CompiledBooleanRule {
  required: boolean;
  /** Each exception's expression, with its path (`artifacts.provenance.exceptions[0].if`). */
  exceptions: { path: string; expression: CompiledExpression }[];
}

/** A policy ready to evaluate: its expressions compiled once. */
export interface CompiledPolicy {
  definition: PolicyDefinition;
  provenance: CompiledBooleanRule;
  trailCompliance: CompiledBooleanRule;
  attestations: { path: string; rule: AttestationRule; condition: CompiledExpression | null }[];
}

class PolicyReader {
  constructor(readonly file: YamlFile) {}

  expression(node: Node | null, path: string, fallback: number): CompiledExpression | undefined {
    const text = this.file.scalar(node, path, 'string', fallback);
    if (typeof text !== 'string' || !node) return undefined;
    try {
      return compileExpression(text, this.file.origin(node, path));
    } catch (err) {
      if (!(err instanceof ExpressionSyntaxError)) throw err;
      this.file.problems.push((err.details as LocatedProblem[])[0]!);
      return undefined;
    }
  }

  schema(member: { key: Node; value: Node | null } | undefined): string {
    if (!member) {
      this.file.addAt(0, '_schema', `missing '_schema': use ${KOSLI_POLICY_SCHEMA_URL} or ${ENVIRONMENT_POLICY_SCHEMA_ID}`);
      return '';
    }
    const url = this.file.scalar(member.value, '_schema', 'string', member.key.range?.[0]);
    if (typeof url !== 'string') return '';
    if (SCHEMA_URL.test(url)) return url;
    const version = /\/(v[0-9]+)$/.exec(url)?.[1];
    const why = version && version !== 'v1' ? `unsupported policy format version ${version} (only v1)` : `unknown policy schema '${url}'`;
    this.file.add(member.value, '_schema', `${why}: use ${KOSLI_POLICY_SCHEMA_URL} or ${ENVIRONMENT_POLICY_SCHEMA_ID}`);
    return url;
  }

  booleanRule(member: { key: Node; value: Node | null } | undefined, path: string): { definition: BooleanRule; compiled: CompiledBooleanRule } {
    const definition: BooleanRule = { required: false, exceptions: [] };
    const compiled: CompiledBooleanRule = { required: false, exceptions: [] };
    const members = member ? this.file.mapping(member.value, path, ['required', 'exceptions'], member.key.range?.[0]) : undefined;
    const required = members?.get('required');
    if (required) definition.required = compiled.required = this.file.scalar(required.value, joinPath(path, 'required'), 'boolean', required.key.range?.[0]) === true;
    const exceptions = members?.get('exceptions');
    const listPath = joinPath(path, 'exceptions');
    (exceptions ? (this.file.sequence(exceptions.value, listPath, POLICY_MAX_EXCEPTIONS, exceptions.key.range?.[0]) ?? []) : []).forEach((item, i) => {
      const at = joinPath(listPath, i);
      const condition = this.file.mapping(item, at, ['if'], exceptions?.key.range?.[0]);
      if (condition && !condition.has('if')) this.file.add(item, joinPath(at, 'if'), "missing 'if'");
      const ifMember = condition?.get('if');
      const expression = ifMember ? this.expression(ifMember.value, joinPath(at, 'if'), ifMember.key.range?.[0] ?? 0) : undefined;
      if (expression) {
        definition.exceptions.push({ if: expression.text });
        compiled.exceptions.push({ path: joinPath(at, 'if'), expression });
      }
    });
    return { definition, compiled };
  }

  attestationRule(item: Node | null, path: string, fallback: number): CompiledPolicy['attestations'][number] | undefined {
    const members = this.file.mapping(item, path, ['name', 'type', 'must_be_compliant', 'if'], fallback);
    if (!members) return undefined;
    const read = (key: string, type: 'string' | 'boolean') => {
      const m = members.get(key);
      return m ? this.file.scalar(m.value, joinPath(path, key), type, m.key.range?.[0]) : undefined;
    };
    const [name, type, mustBeCompliant] = [read('name', 'string') ?? '*', read('type', 'string'), read('must_be_compliant', 'boolean') ?? true];
    if (!members.has('type')) this.file.add(item, joinPath(path, 'type'), "missing 'type'");
    const typeProblem = typeof type === 'string' ? attestationTypeProblem(type) : undefined;
    if (typeProblem) this.file.add(members.get('type')!.value, joinPath(path, 'type'), typeProblem);
    const nameOk = typeof name === 'string' && (name === '*' || NAME.test(name));
    if (!nameOk && typeof name === 'string') {
      this.file.add(members.get('name')!.value, joinPath(path, 'name'), `invalid name '${name}': use * or 1-64 letters, digits, '_' or '-', starting with a letter or digit`);
    }
    if (name === '*' && type === '*') this.file.add(item, path, "'name' and 'type' cannot both be * (name defaults to *)");
    const ifMember = members.get('if');
    const condition = ifMember ? this.expression(ifMember.value, joinPath(path, 'if'), ifMember.key.range?.[0] ?? 0) : undefined;
    if (!nameOk || typeof type !== 'string' || typeProblem || typeof mustBeCompliant !== 'boolean' || (ifMember && !condition)) return undefined;
    const rule: AttestationRule = { name: name as string, type, must_be_compliant: mustBeCompliant, ...(condition ? { if: condition.text } : {}) };
    return { path, rule, condition: condition ?? null };
  }
}

/**
 * Parses an environment policy (YAML, or JSON), checks it and compiles its expressions. Throws INVALID_ARGUMENT
 * listing every problem with its line, column and path (`details` are LocatedProblem).
 */
export function parseEnvironmentPolicy(text: string, source = 'policy.yml'): CompiledPolicy {
  if (text.length > POLICY_MAX_CHARS) throw new EvidentError('INVALID_ARGUMENT', `${source}: policy is larger than ${POLICY_MAX_CHARS / 1024} KiB`);
  const file = new YamlFile(text, source);
  const reader = new PolicyReader(file);
  const top = file.problems.length === 0 ? file.mapping(file.root, '', ['_schema', 'artifacts']) : undefined;
  const schema = top ? reader.schema(top.get('_schema')) : '';
  const artifactsMember = top?.get('artifacts');
  const artifacts = artifactsMember ? file.mapping(artifactsMember.value, 'artifacts', ['provenance', 'trail-compliance', 'attestations'], artifactsMember.key.range?.[0]) : undefined;
  const provenance = reader.booleanRule(artifacts?.get('provenance'), 'artifacts.provenance');
  const trail = reader.booleanRule(artifacts?.get('trail-compliance'), 'artifacts.trail-compliance');
  const list = artifacts?.get('attestations');
  const rules = list ? (file.sequence(list.value, 'artifacts.attestations', POLICY_MAX_RULES, list.key.range?.[0]) ?? []) : [];
  const attestations = rules.map((item, i) => reader.attestationRule(item, joinPath('artifacts.attestations', i), list?.key.range?.[0] ?? 0));
  if (file.problems.length > 0) {
    const problems = [...file.problems].sort((a, b) => a.line - b.line || a.column - b.column);
    throw new EvidentError('INVALID_ARGUMENT', `invalid environment policy: ${problems.map((p) => formatLocated(source, p)).join('; ')}`, { details: problems });
  }
  const compiled = attestations.filter((a) => a !== undefined);
  return {
    definition: {
      _schema: schema,
      artifacts: { provenance: provenance.definition, 'trail-compliance': trail.definition, attestations: compiled.map((a) => a.rule) },
    },
    provenance: provenance.compiled,
    trailCompliance: trail.compiled,
    attestations: compiled,
  };
}

/**
 * A policy from its definition (what `parseEnvironmentPolicy` returned as `definition`, after a round trip
 * through a worker thread: compiled expressions hold closures and cannot cross it). Only the expressions are
 * compiled here, which is linear in their length; the YAML itself was read by the worker.
 */
export function compilePolicyDefinition(definition: PolicyDefinition, source = 'policy.yml'): CompiledPolicy {
  const booleanRule = (rule: BooleanRule, path: string): CompiledBooleanRule => ({
    required: rule.required,
    exceptions: rule.exceptions.map((e, i) => {
      const at = joinPath(joinPath(joinPath(path, 'exceptions'), i), 'if');
      return { path: at, expression: compileExpression(e.if, { source, path: at }) };
    }),
  });
  const { artifacts } = definition;
  return {
    definition,
    provenance: booleanRule(artifacts.provenance, 'artifacts.provenance'),
    trailCompliance: booleanRule(artifacts['trail-compliance'], 'artifacts.trail-compliance'),
    attestations: artifacts.attestations.map((rule, i) => {
      const path = joinPath('artifacts.attestations', i);
      return { path, rule, condition: rule.if === undefined ? null : compileExpression(rule.if, { source, path: joinPath(path, 'if') }) };
    }),
  };
}

const expression = { type: 'string', minLength: 1, description: 'A policy expression, usually written ${{ ... }}; its syntax is checked by the parser.' } as const;
const booleanRule = {
  type: 'object',
  additionalProperties: false,
  properties: {
    required: { type: 'boolean', default: false },
    exceptions: {
      type: 'array',
      maxItems: POLICY_MAX_EXCEPTIONS,
      default: [],
      items: { type: 'object', additionalProperties: false, required: ['if'], properties: { if: expression } },
    },
  },
} as const;

/** JSON Schema (draft-07) of environment policies, served at ENVIRONMENT_POLICY_SCHEMA_ID. Expressions are checked by the parser only. */
export const ENVIRONMENT_POLICY_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: ENVIRONMENT_POLICY_SCHEMA_ID,
  title: 'Evident environment policy',
  description: "What artifacts running in an environment must satisfy: Kosli's environment policy format, v1.",
  type: 'object',
  additionalProperties: false,
  required: ['_schema'],
  properties: {
    _schema: { type: 'string', pattern: POLICY_SCHEMA_PATTERN },
    artifacts: {
      type: 'object',
      additionalProperties: false,
      properties: {
        provenance: booleanRule,
        'trail-compliance': booleanRule,
        attestations: {
          type: 'array',
          maxItems: POLICY_MAX_RULES,
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['type'],
            properties: {
              name: { type: 'string', default: '*', anyOf: [{ const: '*' }, { pattern: TEMPLATE_NAME_PATTERN }] },
              type: { anyOf: [{ type: 'string', enum: [...ATTESTATION_TYPES, '*'] }, { type: 'string', pattern: CUSTOM_TYPE_PATTERN }] },
              must_be_compliant: { type: 'boolean', default: true },
              if: expression,
            },
            not: { required: ['type'], properties: { type: { const: '*' }, name: { const: '*' } } },
          },
        },
      },
    },
  },
} as const;

