import type { Command } from 'commander';
import type { recordSchemas } from '../../client/index.js';
import { EvidentError } from '../../core/index.js';
import { action, intFlag, type Ctx } from '../context.js';
import { commitDefaults, labelled, readJsonFile } from '../flags.js';
import { readTemplateFile } from './flows.js';
import { kosliTrailList, shaped } from '../kosli-json.js';
import { pageFlags, pageOf, type PageFlags } from '../paging.js';

export interface BeginTrailOptions {
  flow: string;
  description?: string;
  commit?: string;
  commitUrl?: string;
  originUrl?: string;
  userData?: string;
  templateFile?: string;
  externalUrl?: Record<string, string>;
  externalFingerprint?: Record<string, string>;
}

export async function beginTrail(opts: BeginTrailOptions, ctx: Ctx, [name]: string[]): Promise<void> {
  const ci = commitDefaults();
  const body = {
    name: name!,
    description: opts.description,
    git_commit: opts.commit ?? ci.commit,
    commit_url: opts.commitUrl ?? ci.commitUrl,
    // Kosli defaults a trail's origin to the CI build.
    origin_url: opts.originUrl ?? ci.buildUrl,
    user_data: opts.userData ? readJsonFile('--user-data', opts.userData) : undefined,
    template: opts.templateFile ? await readTemplateFile(opts.templateFile) : undefined,
    external_urls: opts.externalUrl,
    external_fingerprints: opts.externalFingerprint,
  };
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would begin trail ${name} in flow ${opts.flow}: ${JSON.stringify(body)}`);
  const trail = await ctx.client().beginTrail(opts.flow, body);
  ctx.printer.result(trail, () => ctx.printer.text(`Trail ${trail.name} begun in flow ${trail.flow} (log entry ${trail.entry_index})`));
}

export async function getTrail(opts: PageFlags & { flow: string }, ctx: Ctx, [name]: string[]): Promise<void> {
  // One page of the attestations (as list commands page); the compliance and artifacts are the whole trail's.
  const t = await pageOf(opts, (q) => ctx.client().getTrail(opts.flow, name!, q), (last) => ({ ...last, attestations: [], next_cursor: null }));
  if (ctx.globals.output === 'markdown') {
    const { trailMarkdown } = await import('./trail-markdown.js');
    return ctx.printer.text(trailMarkdown(t));
  }
  ctx.printer.result(t, () => {
    ctx.printer.table(['FIELD', 'VALUE'], [
      ['Name', t.name], ['Flow', t.flow], ['Description', t.description], ['Git commit', t.git_commit ?? '-'], ['Commit URL', t.commit_url ?? '-'],
      ['Created', t.created_at], ['Artifacts', t.artifacts.length], ['Attestations', t.attestation_count ?? t.attestations.length],
      ['Template', t.template ? 'own copy' : 'none (nothing required)'], ['Compliance', t.compliance.state],
      ...Object.entries(t.external_urls ?? {}).map(([label, url]) => [`External URL ${label}`, t.external_fingerprints?.[label] ? `${url} (sha256 ${t.external_fingerprints[label]})` : url]),
    ]);
    ctx.printer.text('');
    ctx.printer.table(['FOR', 'ATTESTATION', 'TYPE', 'STATUS', 'COMPLIANT', 'REQUIRED'], complianceRows(t.compliance));
    if (t.artifacts.length > 0) {
      ctx.printer.text('');
      ctx.printer.table(['ARTIFACT', 'FINGERPRINT', 'COMMIT'], t.artifacts.map((a) => [a.name, a.fingerprint, a.git_commit?.slice(0, 7)]));
    }
    if (t.attestations.length > 0) {
      ctx.printer.text('');
      ctx.printer.table(['ATTESTATION', 'TYPE', 'FOR', 'COMPLIANT', 'AT'], t.attestations.map((a) => [a.name, a.type, a.artifact_name ?? 'trail', a.compliant ? 'yes' : 'no', a.created_at]));
    }
    if (t.next_cursor) ctx.printer.info(`more attestations: --cursor ${t.next_cursor}`);
  });
}

const yesNo = (b: boolean | null) => (b === null ? '-' : b ? 'yes' : 'no');

/** One row per requirement and per unexpected attestation, the trail's first, then each artifact's. */
export function complianceRows(c: recordSchemas.TrailCompliance): string[][] {
  const rows = (what: string, part: recordSchemas.Compliance) => [
    ...part.attestations.map((s) => [what, s.attestation_name, s.attestation_type, s.status, yesNo(s.is_compliant), 'yes']),
    ...part.unexpected.map((s) => [what, s.attestation_name, s.attestation_type, s.status, yesNo(s.is_compliant), 'no']),
  ];
  const out = rows('trail', c);
  for (const a of c.artifacts) {
    const what = `${a.name}${a.fingerprint ? ` (${a.fingerprint.slice(0, 7)})` : ''}`;
    if (a.status === 'MISSING') out.push([a.name, '(artifact)', '-', 'MISSING', '-', 'yes']);
    out.push(...rows(what, a));
  }
  return out;
}

/**
 * Kosli's `list trails --fingerprint FP`: the trails the artifact was reported in, across flows (or in --flow),
 * found by `search`; one page, newest first.
 */
async function trailsOfArtifact(opts: PageFlags & { flow?: string; fingerprint: string }, ctx: Ctx): Promise<recordSchemas.TrailPage> {
  const { items } = await ctx.client().search(opts.fingerprint);
  const places = new Map<string, { flow: string; trail: string }>();
  for (const a of items) if (a.fingerprint === opts.fingerprint && (!opts.flow || a.flow === opts.flow)) places.set(`${a.flow}\u0000${a.trail}`, a);
  const trails: recordSchemas.Trail[] = [];
  for (const p of places.values()) {
    const { artifacts: _a, attestations: _b, compliance: _c, attestation_count: _n, next_cursor: _next, ...trail } = await ctx.client().getTrail(p.flow, p.trail, { limit: 1 });
    trails.push(trail);
  }
  trails.sort((a, b) => b.entry_index - a.entry_index);
  const size = opts.pageLimit ?? opts.limit;
  const start = ((opts.page ?? 1) - 1) * size;
  return { items: trails.slice(start, start + size), next_cursor: null };
}

/** Every page of a cursor-paged list. */
async function allPages<T>(get: (cursor?: string) => Promise<{ items: T[]; next_cursor: string | null }>): Promise<T[]> {
  const out: T[] = [];
  for (let cursor: string | undefined; ;) {
    const page = await get(cursor);
    out.push(...page.items);
    if (!page.next_cursor) return out;
    cursor = page.next_cursor;
  }
}

/**
 * Kosli's `list trails --flow-tag KEY=VALUE`: the trails of every flow carrying that tag (or of --flow, if it
 * does), newest first; a flow's tags are those `tag flow` recorded.
 */
async function trailsOfTaggedFlows(opts: PageFlags & { flow?: string; flowTag: string }, ctx: Ctx): Promise<recordSchemas.TrailPage> {
  const eq = opts.flowTag.indexOf('=');
  if (eq <= 0) throw new EvidentError('INVALID_ARGUMENT', "flag '--flow-tag' must be in the format of key=value");
  const [key, value] = [opts.flowTag.slice(0, eq), opts.flowTag.slice(eq + 1)];
  const flows = (await allPages((cursor) => ctx.client().listFlows({ cursor, limit: 1000 })))
    .filter((f) => f.tags[key] === value && (!opts.flow || f.name === opts.flow));
  const trails = (await Promise.all(flows.map((f) => allPages((cursor) => ctx.client().listTrails(f.name, { cursor, limit: 1000 }))))).flat();
  trails.sort((a, b) => b.entry_index - a.entry_index);
  const size = opts.pageLimit ?? opts.limit;
  const start = ((opts.page ?? 1) - 1) * size;
  return { items: trails.slice(start, start + size), next_cursor: null };
}

export async function listTrails(opts: PageFlags & { flow?: string; fingerprint?: string; flowTag?: string }, ctx: Ctx): Promise<void> {
  if (!opts.flow && !opts.fingerprint && !opts.flowTag) throw new EvidentError('INVALID_ARGUMENT', 'give --flow F (its trails), --fingerprint FP (the trails of an artifact, across flows) or --flow-tag K=V (the trails of the flows so tagged)');
  if (opts.fingerprint && opts.flowTag) throw new EvidentError('INVALID_ARGUMENT', 'give --fingerprint or --flow-tag, not both');
  const page = opts.fingerprint ? await trailsOfArtifact({ ...opts, fingerprint: opts.fingerprint }, ctx)
    : opts.flowTag ? await trailsOfTaggedFlows({ ...opts, flowTag: opts.flowTag }, ctx)
      : await pageOf(opts, (q) => ctx.client().listTrails(opts.flow!, q));
  ctx.printer.result(shaped(ctx, page, (p) => kosliTrailList(p, opts.page ?? 1, opts.pageLimit ?? opts.limit)), () => {
    ctx.printer.table(['NAME', 'COMMIT', 'CREATED'], page.items.map((t) => [t.name, t.git_commit?.slice(0, 7), t.created_at]));
    if (page.next_cursor) ctx.printer.info(`more: --cursor ${page.next_cursor}`);
  });
}

export function registerTrailCommands(begin: Command, get: Command, list: Command): void {
  begin
    .command('trail <name>')
    .description('Begin a trail: one run of a flow, named by you (commit SHA, PR number, release id)')
    .requiredOption('--flow <name>', 'the flow')
    .option('--description <text>', 'what this run is')
    .option('--commit <sha>', 'git commit (default in GitHub Actions / GitLab CI: from their environment)')
    .option('--commit-url <url>', 'link to the commit')
    .option('--origin-url <url>', 'link to where the trail comes from (PR, pipeline)')
    .option('--user-data <file>', 'a JSON file of your own data to keep with the trail')
    .option('--template-file <file>', "override the flow's template for this trail")
    .option('--external-url <label=url>', 'a labelled link to an external resource (Jira ticket, PR), kept in the trail\'s log entry; repeatable (Kosli)', labelled('--external-url', 'LABEL=URL'))
    .option('--external-fingerprint <label=sha256>', 'the SHA-256 of what the --external-url of that label points at, kept beside it; repeatable (Kosli)', labelled('--external-fingerprint', 'LABEL=SHA256'))
    .addHelpText('after', '\nExamples:\n  evident begin trail $GIT_SHA --flow runner --commit $GIT_SHA\n  evident begin trail $GIT_SHA --flow runner --external-url jira=https://jira.example.com/PROJ-1\n  evident begin trail $GIT_SHA --flow runner --external-url sbom=https://example.com/sbom.json --external-fingerprint sbom=$SBOM_SHA256')
    .action(action(beginTrail));
  get.command('trail <name>').description('Show a trail with its artifacts, compliance and one page of its attestations (--output markdown: a GitHub job summary, as Kosli)').requiredOption('--flow <name>', 'the flow')
    .option('--limit <n>', 'attestations per page (1-1000)', intFlag('--limit', 1), 100)
    .option('--cursor <cursor>', 'the next page of attestations')
    .addHelpText('after', '\nExample:\n  evident get trail $GIT_SHA --flow runner --output markdown >> "$GITHUB_STEP_SUMMARY"');
  pageFlags(get.commands.at(-1)!).action(action(getTrail));
  list
    .command('trails')
    .description('List the trails of a flow, oldest first; or of an artifact (--fingerprint), across flows')
    .option('--flow <name>', 'the flow')
    .option('--fingerprint <sha256>', 'the trails this artifact was reported in, in every flow (or in --flow), newest first (Kosli)')
    .option('--flow-tag <key=value>', 'the trails of every flow with this tag (tag flow), newest first (Kosli)')
    .option('--limit <n>', 'page size (1-1000)', intFlag('--limit', 1), 100)
    .option('--cursor <cursor>', 'the next page');
  pageFlags(list.commands.at(-1)!).action(action(listTrails));
}
