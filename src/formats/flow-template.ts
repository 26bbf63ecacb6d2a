import { EvidentError, yamlLib } from '../core/index.js';
import { formatLocated } from './policy-expr-errors.js';
import { YamlFile, didYouMean, joinPath } from './yaml-walk.js';
import type { Node } from 'yaml';

// Flow templates: Kosli's `version: 1` format (https://docs.kosli.com/template-reference/flow_template and its
// JSON Schema https://docs.kosli.com/schemas/flow-template/v1.json), which attestations each trail and each of
// its artifacts must have:
//
//   version: 1
//   trail:
//     attestations: [{name: jira-ticket, type: jira}]
//     artifacts:
//     - name: backend
//       attestations: [{name: unit-tests, type: junit}, {name: security-scan, type: snyk}]
//
// As in Kosli's schema: unknown keys are refused everywhere; `version` is 1 and may be left out (its default);
// `trail` may be left out or null (no requirements); lists default to empty. Stricter than Kosli's schema, and
// said by its reference page: names are unique (trail attestations within the trail, artifact attestations
// within their artifact, artifacts within the trail). Names follow Evident's attestation names (a letter or
// digit, then letters, digits, `_`, `-`; at most 64), since no other name can ever be recorded.

/** Built-in types: Kosli's (`generic junit snyk pull_request jira sonar`, and `decision sbom` from its schema) and Evident's (`sarif approval provenance`). */
export const ATTESTATION_TYPES = ['generic', 'junit', 'snyk', 'sarif', 'pull_request', 'approval', 'provenance', 'jira', 'sonar', 'decision', 'sbom'] as const;
export const TEMPLATE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';
export const CUSTOM_TYPE_PATTERN = '^custom:.+$';
export const FLOW_TEMPLATE_SCHEMA_ID = '/api/v1/schemas/flow-template/v1';
export const FLOW_TEMPLATE_MAX_CHARS = 256 * 1024;
export const FLOW_TEMPLATE_MAX_ITEMS = 1000;

const NAME = new RegExp(TEMPLATE_NAME_PATTERN);
const CUSTOM = new RegExp(CUSTOM_TYPE_PATTERN);

export interface TemplateAttestation {
  name: string;
  /** A built-in type, `custom:<name>`, or `*` (any type). */
  type: string;
}

export interface TemplateArtifact {
  name: string;
  attestations: TemplateAttestation[];
}

export interface FlowTemplate {
  version: 1;
  trail: { attestations: TemplateAttestation[]; artifacts: TemplateArtifact[] };
}

/** What a flow without a template requires: nothing (Kosli's `--use-empty-template`). */
export const EMPTY_FLOW_TEMPLATE: FlowTemplate = Object.freeze({ version: 1, trail: Object.freeze({ attestations: [], artifacts: [] }) }) as FlowTemplate;

/** Undefined when `type` is an attestation type a template or policy may name, else why not. */
export function attestationTypeProblem(type: string): string | undefined {
  if (type === '*' || (ATTESTATION_TYPES as readonly string[]).includes(type) || CUSTOM.test(type)) return undefined;
  return `unknown attestation type '${type}'${didYouMean(type, [...ATTESTATION_TYPES])}: use one of ${ATTESTATION_TYPES.join(', ')}, custom:<name> or *`;
}

function readAttestations(file: YamlFile, node: Node | null, path: string, fallback: number): TemplateAttestation[] {
  const out: TemplateAttestation[] = [];
  const seen = new Set<string>();
  (file.sequence(node, path, FLOW_TEMPLATE_MAX_ITEMS, fallback) ?? []).forEach((item, i) => {
    const at = joinPath(path, i);
    const members = file.mapping(item, at, ['name', 'type'], node?.range?.[0] ?? fallback);
    if (!members) return;
    const start = item?.range?.[0] ?? fallback;
    const name = templateName(file, members.get('name'), joinPath(at, 'name'), start);
    const typeNode = members.get('type');
    if (!typeNode) file.add(item, joinPath(at, 'type'), "missing 'type'");
    const type = typeNode ? file.scalar(typeNode.value, joinPath(at, 'type'), 'string', typeNode.key.range?.[0]) : undefined;
    const problem = typeof type === 'string' ? attestationTypeProblem(type) : undefined;
    if (problem) file.add(typeNode!.value, joinPath(at, 'type'), problem);
    if (name !== undefined && seen.has(name)) file.add(members.get('name')!.value, joinPath(at, 'name'), `duplicate attestation name '${name}'`);
    if (name !== undefined) seen.add(name);
    if (name !== undefined && typeof type === 'string' && !problem) out.push({ name, type });
  });
  return out;
}

function templateName(file: YamlFile, member: { key: Node; value: Node | null } | undefined, path: string, fallback: number): string | undefined {
  if (!member) {
    file.addAt(fallback, path, "missing 'name'");
    return undefined;
  }
  const name = file.scalar(member.value, path, 'string', member.key.range?.[0]);
  if (typeof name !== 'string') return undefined;
  if (NAME.test(name)) return name;
  file.add(member.value, path, `invalid name '${name}': use 1-64 letters, digits, '_' or '-', starting with a letter or digit`);
  return undefined;
}

/** Parses a flow template, or throws INVALID_ARGUMENT listing every problem with its line, column and path. */
export function parseFlowTemplate(text: string, source = 'template.yml'): FlowTemplate {
  if (text.length > FLOW_TEMPLATE_MAX_CHARS) throw new EvidentError('INVALID_ARGUMENT', `${source}: template is larger than ${FLOW_TEMPLATE_MAX_CHARS / 1024} KiB`);
  const file = new YamlFile(text, source);
  const template: FlowTemplate = { version: 1, trail: { attestations: [], artifacts: [] } };
  const top = file.problems.length === 0 ? file.mapping(file.root, '', ['version', 'trail']) : undefined;
  const version = top?.get('version');
  if (version && !(yamlLib().isScalar(version.value) && version.value.value === 1)) {
    const found = yamlLib().isScalar(version.value) ? JSON.stringify(version.value.value) : 'a collection';
    file.add(version.value, 'version', `must be 1 (found ${found})`, version.key.range?.[0]);
  }
  const trailValue = top?.get('trail')?.value ?? null;
  if (trailValue !== null && !(yamlLib().isScalar(trailValue) && trailValue.value === null)) {
    const trail = file.mapping(trailValue, 'trail', ['attestations', 'artifacts']);
    const attestations = trail?.get('attestations');
    if (attestations) template.trail.attestations = readAttestations(file, attestations.value, 'trail.attestations', attestations.key.range?.[0] ?? 0);
    const artifacts = trail?.get('artifacts');
    const names = new Set<string>();
    (artifacts ? (file.sequence(artifacts.value, 'trail.artifacts', FLOW_TEMPLATE_MAX_ITEMS, artifacts.key.range?.[0]) ?? []) : []).forEach((item, i) => {
      const at = joinPath('trail.artifacts', i);
      const members = file.mapping(item, at, ['name', 'attestations'], artifacts?.key.range?.[0]);
      if (!members) return;
      const name = templateName(file, members.get('name'), joinPath(at, 'name'), item?.range?.[0] ?? 0);
      if (name !== undefined && names.has(name)) file.add(members.get('name')!.value, joinPath(at, 'name'), `duplicate artifact name '${name}'`);
      if (name !== undefined) names.add(name);
      const list = members.get('attestations');
      const required = list ? readAttestations(file, list.value, joinPath(at, 'attestations'), list.key.range?.[0] ?? 0) : [];
      if (name !== undefined) template.trail.artifacts.push({ name, attestations: required });
    });
  }
  if (file.problems.length > 0) {
    const problems = [...file.problems].sort((a, b) => a.line - b.line || a.column - b.column);
    throw new EvidentError('INVALID_ARGUMENT', `invalid flow template: ${problems.map((p) => formatLocated(source, p)).join('; ')}`, { details: problems });
  }
  return template;
}

const attestationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type'],
  properties: {
    name: { type: 'string', pattern: TEMPLATE_NAME_PATTERN, description: 'Unique within the trail, or within the artifact.' },
    type: {
      description: 'A built-in type, custom:<name> for a custom attestation type, or * for any type.',
      anyOf: [{ type: 'string', enum: [...ATTESTATION_TYPES, '*'] }, { type: 'string', pattern: CUSTOM_TYPE_PATTERN }],
    },
  },
} as const;

/** JSON Schema (draft-07) of flow templates, served at FLOW_TEMPLATE_SCHEMA_ID. Uniqueness of names is checked by the parser only. */
export const FLOW_TEMPLATE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: FLOW_TEMPLATE_SCHEMA_ID,
  title: 'Evident flow template',
  description: "Which attestations each trail and artifact of a flow must have: Kosli's flow template format, version 1.",
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { const: 1, default: 1, description: 'The version of the format; only 1.' },
    trail: {
      anyOf: [
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            attestations: { type: 'array', maxItems: FLOW_TEMPLATE_MAX_ITEMS, default: [], items: attestationSchema },
            artifacts: {
              type: 'array',
              maxItems: FLOW_TEMPLATE_MAX_ITEMS,
              default: [],
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['name'],
                properties: {
                  name: { type: 'string', pattern: TEMPLATE_NAME_PATTERN },
                  attestations: { type: 'array', maxItems: FLOW_TEMPLATE_MAX_ITEMS, default: [], items: attestationSchema },
                },
              },
            },
          },
        },
        { type: 'null' },
      ],
      default: { attestations: [], artifacts: [] },
    },
  },
} as const;
