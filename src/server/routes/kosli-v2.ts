import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { schemas } from '../../client/index.js';
import { EvidentError } from '../../core/index.js';
import { access, typed, type Services } from '../context.js';
import { fromFastify, statusOf } from '../errors.js';

// The endpoints of Kosli's API v2 that the `kosli` binary calls for Kosli's documented pipeline steps, so that the
// real binary can record into Evident (issue 15, convention "the kosli binary against an Evident server"). The
// request shapes are kosli-dev/cli's (cmd/kosli/createFlow.go, beginTrail.go, attestArtifact.go, attestGeneric.go,
// status.go; multipart forms from internal/requests/requests.go: a `data_json` field holding the payload, a
// `template_file` or `attachment_file` file). Each maps onto the same service as Evident's /api/v1 route, so every
// write is one log entry (or none, for a create-or-update that changes nothing). What this layer does not cover
// answers 404 as any unknown route does; docs/kosli.md lists the subset.

/** Kosli's `data_json` payloads: the fields read here; the rest (repo_info, commit message, author…) is not kept. */
const CommitInfo = Type.Object({ sha1: Type.Optional(Type.String()), url: Type.Optional(Type.String()), timestamp: Type.Optional(Type.Number()) }, { additionalProperties: true });
type CommitInfo = { sha1?: string; url?: string; timestamp?: number };
type UrlInfo = { href?: unknown; fingerprint?: unknown };

const FlowPut = Type.Object({ name: Type.String({ maxLength: 64 }), description: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: true });
const ArtifactPost = Type.Object(
  {
    fingerprint: Type.String({ maxLength: 64 }), filename: Type.Optional(Type.String({ maxLength: 256 })), git_commit: Type.Optional(Type.String()),
    git_commit_info: Type.Optional(Type.Union([CommitInfo, Type.Null()])), build_url: Type.Optional(Type.String()), commit_url: Type.Optional(Type.String()),
    template_reference_name: Type.String({ maxLength: 64 }), trail_name: Type.String({ maxLength: 64 }),
    external_urls: Type.Optional(Type.Record(Type.String(), Type.Object({ href: Type.String(), fingerprint: Type.Optional(Type.String()) }))),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: true },
);
/** `kosli tag TYPE ID`: Kosli's resource words (cmd/kosli/tag.go validTagResourceTypes) and Evident's kinds. */
const TAG_KINDS: Readonly<Record<string, 'flow' | 'environment' | 'control' | 'repo'>> = {
  flow: 'flow', flows: 'flow', env: 'environment', environment: 'environment', environments: 'environment', control: 'control', controls: 'control', repo: 'repo', repos: 'repo',
};
const TagPatch = Type.Object({ set_tags: Type.Optional(Type.Record(Type.String(), Type.String())), remove_tags: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: true });
const TagParams = Type.Object({ org: Type.String({ maxLength: 64 }), type: Type.String({ maxLength: 32 }), '*': Type.String({ maxLength: 512 }) });
const Tagged = Type.Object({ name: Type.String(), tags: Type.Record(Type.String(), Type.String()) }, { additionalProperties: true });
/** A repository as its commit URLs name it (OWNER/REPO, GitLab GROUP/SUBGROUP/PROJECT), as services/records/tags.ts checks it. */
const REPO = /^[A-Za-z0-9_.-]{1,100}(\/[A-Za-z0-9_.-]{1,100}){0,4}$/;
const Repo = Type.Object({ id: Type.String(), name: Type.String(), provider: Type.Union([Type.String(), Type.Null()]), tags: Type.Record(Type.String(), Type.String()) });
const OrgOnly = Type.Object({ org: Type.String({ maxLength: 64 }) });
const OrgFlow = Type.Object({ org: Type.String({ maxLength: 64 }), flow: Type.String({ maxLength: 64 }) });
const OrgFlowTrail = Type.Object({ org: Type.String({ maxLength: 64 }), flow: Type.String({ maxLength: 64 }), trail: Type.String({ maxLength: 64 }) });
const Written = Type.Object({ name: Type.String(), entry_index: Type.Union([Type.Integer(), Type.Null()]) }, { additionalProperties: true });
const Form = Type.Object({ data_json: Type.Optional(Type.String()), template_file: Type.Optional(Type.String({ contentMediaType: 'application/octet-stream' })) });

/** Kosli's CLI prints an error body's `message` (internal/requests/requests.go); Evident's `error` is kept beside it. */
const KosliError = Type.Object({ message: Type.String(), error: schemas.ErrorBody.properties.error });
const errorResponses = Object.fromEntries([400, 401, 403, 404, 409, 413, 429, 500, 503].map((status) => [status, KosliError]));

/** Form fields and files at most 256 KiB (a trail's user data is at most 64 KiB; a template is text). */
const PART_MAX = 256 * 1024;

/** Kosli's form: the JSON of `data_json` and the text of `template_file`; an attachment is refused (see below). */
async function readForm(request: FastifyRequest): Promise<{ data: Record<string, unknown>; template?: string }> {
  if (!request.isMultipart()) throw new EvidentError('INVALID_ARGUMENT', 'send multipart/form-data with a data_json field, as the kosli CLI does');
  let json: string | undefined;
  let template: string | undefined;
  try {
    for await (const part of request.parts({ limits: { fileSize: PART_MAX, fieldSize: PART_MAX, files: 2, fields: 4 } })) {
      if (part.type === 'field' && part.valueTruncated) throw new EvidentError('PAYLOAD_TOO_LARGE', `the form field ${part.fieldname} is larger than ${PART_MAX / 1024} KiB`);
      if (part.type === 'field' && part.fieldname === 'data_json') json = String(part.value);
      else if (part.type === 'file' && part.fieldname === 'template_file') template = (await part.toBuffer()).toString('utf8');
      else if (part.type === 'file' && part.fieldname === 'attachment_file') {
        // Kosli zips attachments into one archive; Evident keeps each file in its evidence vault by digest.
        throw new EvidentError('INVALID_ARGUMENT', 'attachments are not taken on Kosli\'s API: attest with `evident attest … --attachments FILE` (each file is kept by its SHA-256)');
      } else if (part.type === 'file') await part.toBuffer();
    }
  } catch (err) {
    if (err instanceof EvidentError) throw err;
    if ((err as { statusCode?: number }).statusCode === 413) throw new EvidentError('PAYLOAD_TOO_LARGE', `a form part is larger than ${PART_MAX / 1024} KiB, or the form has too many parts`);
    throw new EvidentError('INVALID_ARGUMENT', `malformed multipart/form-data body: ${(err as Error).message}`, { cause: err });
  }
  if (json === undefined) throw new EvidentError('INVALID_ARGUMENT', 'the form has no data_json field');
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new EvidentError('INVALID_ARGUMENT', 'data_json is not JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new EvidentError('INVALID_ARGUMENT', 'data_json must be a JSON object');
  return { data: data as Record<string, unknown>, template };
}

const str = (data: Record<string, unknown>, key: string): string | undefined => {
  const value = data[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new EvidentError('INVALID_ARGUMENT', `data_json.${key} must be a string`);
  return value;
};

/** Kosli's `external_urls` ({LABEL: {href, fingerprint}}) as links and digests. */
function externalLinks(value: unknown): { urls: Record<string, string>; fingerprints: Record<string, string> } {
  const urls: Record<string, string> = {};
  const fingerprints: Record<string, string> = {};
  if (value === undefined || value === null) return { urls, fingerprints };
  if (typeof value !== 'object' || Array.isArray(value)) throw new EvidentError('INVALID_ARGUMENT', 'external_urls must be an object of {href, fingerprint}');
  for (const [label, info] of Object.entries(value as Record<string, UrlInfo>)) {
    if (typeof info?.href !== 'string') throw new EvidentError('INVALID_ARGUMENT', `external_urls.${label}.href must be a URL`);
    urls[label] = info.href;
    if (info.fingerprint !== undefined && info.fingerprint !== '') fingerprints[label] = String(info.fingerprint);
  }
  return { urls, fingerprints };
}

/** An attestation's or artifact's links, as Evident's CLI records them: the annotations `external_url.L`, `external_fingerprint.L`. */
function linkAnnotations(value: unknown): Record<string, string> {
  const { urls, fingerprints } = externalLinks(value);
  return {
    ...Object.fromEntries(Object.entries(urls).map(([l, u]) => [`external_url.${l}`, u])),
    ...Object.fromEntries(Object.entries(fingerprints).map(([l, f]) => [`external_fingerprint.${l}`, f])),
  };
}

const commitOf = (info: unknown): CommitInfo => (typeof info === 'object' && info !== null ? (info as CommitInfo) : {});

export function kosliV2Routes(services: Services) {
  return async (fastify: FastifyInstance) => {
    // Only these routes take multipart bodies besides the evidence upload (each plugin registers its own).
    await fastify.register(multipart);
    // Kosli's CLI prints the `message` of an error body (internal/requests): it is given beside Evident's `error`.
    fastify.setErrorHandler((raw, request, reply) => {
      const err = raw instanceof EvidentError ? raw : fromFastify(raw as FastifyError);
      if (!request.raw.complete) request.raw.resume();
      if (statusOf(err.code) >= 500) request.log.error({ err: raw }, err.message);
      void reply.status(statusOf(err.code)).send({ message: err.message, error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } });
    });
    const app = typed(fastify);
    const tags = ['kosli api v2'];
    const multipartOnly = { preValidation: async (request: FastifyRequest) => void (request.isMultipart() && (request.body = {})) };

    // `kosli status`: the body is printed as is.
    app.get('/ready', { schema: { tags, summary: 'Kosli\'s readiness check (`kosli status`): the database answers', response: { 200: Type.String(), 503: KosliError } } }, async () => {
      await services.store.ping();
      return 'OK';
    });

    // `kosli create flow NAME` (legacy JSON form, no template) and `--template-file`/`--use-empty-template` (a form).
    app.put('/api/v2/flows/:org', { schema: { tags, summary: 'Kosli: create or update a flow without a template', params: OrgOnly, body: FlowPut, response: { 200: Written, 201: Written, ...errorResponses } } }, async (request, reply) => {
      const org = await access(services, request, 'write', request.params.org);
      const { flow, outcome } = await services.flows.createOrUpdate(org, { name: request.body.name, description: request.body.description });
      void reply.status(outcome === 'created' ? 201 : 200);
      return { name: flow.name, entry_index: outcome === 'unchanged' ? null : flow.entryIndex };
    });
    app.put('/api/v2/flows/:org/template_file', { schema: { tags, summary: 'Kosli: create or update a flow with its template (multipart: data_json, template_file)', consumes: ['multipart/form-data'], params: OrgOnly, body: Form, response: { 200: Written, 201: Written, ...errorResponses } }, ...multipartOnly }, async (request, reply) => {
      const org = await access(services, request, 'write', request.params.org);
      const { data, template } = await readForm(request);
      const { flow, outcome } = await services.flows.createOrUpdate(org, { name: str(data, 'name') ?? '', description: str(data, 'description'), template });
      void reply.status(outcome === 'created' ? 201 : 200);
      return { name: flow.name, entry_index: outcome === 'unchanged' ? null : flow.entryIndex };
    });

    // `kosli begin trail NAME --flow F`: begin or update.
    app.put('/api/v2/trails/:org/:flow', { schema: { tags, summary: 'Kosli: begin or update a trail (multipart: data_json, template_file)', consumes: ['multipart/form-data'], params: OrgFlow, body: Form, response: { 200: Written, 201: Written, ...errorResponses } }, ...multipartOnly }, async (request, reply) => {
      const org = await access(services, request, 'write', request.params.org);
      const { data, template } = await readForm(request);
      const commit = commitOf(data.git_commit_info);
      const links = externalLinks(data.external_urls);
      const { trail, outcome } = await services.trails.beginOrUpdate(org, {
        flow: request.params.flow, name: str(data, 'name') ?? '', description: str(data, 'description'), gitCommit: commit.sha1, commitUrl: commit.url,
        originUrl: str(data, 'origin_url'), userData: data.user_data, template, externalUrls: links.urls, externalFingerprints: links.fingerprints,
      });
      void reply.status(outcome === 'created' ? 201 : 200);
      return { name: trail.name, entry_index: outcome === 'unchanged' ? null : trail.entryIndex };
    });

    // `kosli tag TYPE ID --set k=v --unset k`. A repository's id in Evident is its OWNER/REPO (it has no records of
    // its own: services/records/tags.ts), so the id is the rest of the path, and `GET /api/v2/repos/ORG/NAME` (which
    // the binary asks first, to resolve a repository's name to its id) answers with the name as the id.
    app.patch('/api/v2/tags/:org/:type/*', { schema: { tags, summary: 'Kosli: set and unset the tags of a flow, environment, control or repository (one log entry; none if nothing changes)', params: TagParams, body: TagPatch, response: { 200: Tagged, ...errorResponses } } }, async (request) => {
      const org = await access(services, request, 'write', request.params.org);
      const kind = TAG_KINDS[request.params.type];
      if (!kind) throw new EvidentError('INVALID_ARGUMENT', `${request.params.type} is not a valid resource type. Valid resource types are: ${Object.keys(TAG_KINDS).join(', ')}`);
      // Kosli documents `--unset key1=value1`: a key never contains '=', so the value is dropped (as Evident's CLI does).
      const change = { set: request.body.set_tags ?? {}, unset: (request.body.remove_tags ?? []).map((k) => k.split('=')[0]!) };
      const id = request.params['*'];
      if (kind === 'flow') {
        const flow = await services.flows.tag(org, id, change);
        return { name: flow.name, tags: flow.tags };
      }
      return services.tags.tag(org, kind, id, change);
    });
    app.get('/api/v2/repos/:org/*', { schema: { tags, summary: "Kosli: a repository, by OWNER/REPO (its id in Evident), with its tags", params: Type.Object({ org: Type.String({ maxLength: 64 }), '*': Type.String({ maxLength: 512 }) }), querystring: Type.Object({ provider: Type.Optional(Type.String({ maxLength: 32 })), id: Type.Optional(Type.String({ maxLength: 512 })) }), response: { 200: Repo, ...errorResponses } } }, async (request) => {
      const org = await access(services, request, 'read', request.params.org);
      const name = request.query.id ?? request.params['*'];
      if (!REPO.test(name)) throw new EvidentError('INVALID_ARGUMENT', `${JSON.stringify(name)} is not a repository: give OWNER/REPO`);
      return { id: name, name, provider: request.query.provider ?? null, tags: (await services.tags.tags(org, 'repo', [name])).get(name) ?? {} };
    });

    // `kosli attest artifact`: the artifact into its trail.
    app.post('/api/v2/artifacts/:org/:flow', { schema: { tags, summary: 'Kosli: report an artifact into a trail (one log entry)', params: OrgFlow, body: ArtifactPost, response: { 200: Written, ...errorResponses } } }, async (request) => {
      const org = await access(services, request, 'write', request.params.org);
      const b = request.body;
      const commit = commitOf(b.git_commit_info);
      const artifact = await services.artifacts.report(org, {
        flow: request.params.flow, trail: b.trail_name, name: b.template_reference_name, fingerprint: b.fingerprint, displayName: b.filename || null,
        gitCommit: b.git_commit || commit.sha1 || null, commitUrl: b.commit_url || commit.url || null, buildUrl: b.build_url || null,
        annotations: { ...b.annotations, ...linkAnnotations(b.external_urls) },
        commitTime: typeof commit.timestamp === 'number' && commit.timestamp > 0 ? new Date(commit.timestamp * 1000).toISOString() : null,
      });
      return { name: artifact.name, fingerprint: artifact.fingerprint, entry_index: artifact.entryIndex };
    });

    // `kosli attest generic`: about the trail, an artifact by fingerprint, or ARTIFACT.NAME with --commit.
    app.post('/api/v2/attestations/:org/:flow/trail/:trail/generic', { schema: { tags, summary: 'Kosli: a generic attestation (multipart: data_json; one log entry)', consumes: ['multipart/form-data'], params: OrgFlowTrail, body: Form, response: { 200: Written, ...errorResponses } }, ...multipartOnly }, async (request) => {
      const org = await access(services, request, 'write', request.params.org);
      const { data } = await readForm(request);
      if (typeof data.is_compliant !== 'boolean') throw new EvidentError('INVALID_ARGUMENT', 'data_json.is_compliant must be true or false');
      const annotations = data.annotations === undefined || data.annotations === null ? {} : (data.annotations as Record<string, string>);
      const origin = str(data, 'origin_url');
      const att = await services.attestations.generic(org, {
        flow: request.params.flow, trail: request.params.trail, name: str(data, 'attestation_name') ?? '', compliant: data.is_compliant,
        fingerprint: str(data, 'artifact_fingerprint') || null, gitCommit: commitOf(data.git_commit_info).sha1 || null, description: str(data, 'description'),
        userData: data.user_data ?? undefined,
        // The CI build it came from (Kosli's origin_url) is kept as an annotation: Evident's attestations have no such field.
        annotations: { ...annotations, ...linkAnnotations(data.external_urls), ...(origin ? { origin_url: origin } : {}) },
      });
      return { name: att.name, entry_index: att.entryIndex };
    });
  };
}
