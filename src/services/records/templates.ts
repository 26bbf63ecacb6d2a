import { EvidentError } from '../../core/index.js';
import { EMPTY_FLOW_TEMPLATE, parseFlowTemplate, type FlowTemplate } from '../../formats/index.js';
import { ParsePool } from '../parse-pool.js';

// Flow templates are up to 256 KiB of YAML chosen by whoever can create a flow or begin a trail; parsing one
// took 487 ms at 79 KiB (reliability report, F4 follow-up). Parsed on the event loop, each write of a new
// template, and each first read of one, stopped every other request for that long. So templates are parsed
// in the report parsers' worker threads (ParsePool): when written (to refuse a bad one with its line and
// column), and before a read evaluates trails against templates not parsed yet in this process. The parsed
// template is plain data, cached here by its text: a template is a pure function of its text, so one cache
// serves every service bundle in the process.

const CACHE_MAX = 1000;
const parsed = new Map<string, FlowTemplate>();
const encoder = new TextEncoder();

/** A pool that parses in this thread: for services built without the server's workers (tests, the CLI). */
export const IN_THREAD_PARSER = new ParsePool({ workers: 0 });

function remember(text: string, template: FlowTemplate): FlowTemplate {
  if (parsed.size >= CACHE_MAX) parsed.delete(parsed.keys().next().value!); // oldest first: no cliff where all are lost
  parsed.set(text, template);
  return template;
}

/**
 * Refuses a template with the line and column of each problem (parsed in a worker); nothing is stored by
 * the caller when it throws. The parsed template is kept for the reads that follow.
 */
export async function checkTemplate(parser: ParsePool, text: string, source = 'template.yml'): Promise<FlowTemplate> {
  const cached = parsed.get(text);
  if (cached) return cached;
  return remember(text, await parser.parse('template', encoder.encode(text), source));
}

/**
 * Parses, in the workers, every template among `texts` not parsed yet, so that `templateOf` (synchronous,
 * inside the evaluators) finds them cached. One that no longer parses counts as the empty template (see
 * `templateOf`).
 */
export async function prepareTemplates(parser: ParsePool, texts: Iterable<string | null>): Promise<void> {
  const missing = [...new Set([...texts].filter((t): t is string => !!t && !parsed.has(t)))];
  await Promise.all(missing.map(async (text) => {
    try {
      remember(text, await parser.parse('template', encoder.encode(text), 'template.yml'));
    } catch (err) {
      // Only a template that does not parse counts as empty: a busy or stopped parser fails the read instead
      // of judging trails against nothing.
      if (!(err instanceof EvidentError && err.code === 'INVALID_ARGUMENT')) throw err;
      remember(text, EMPTY_FLOW_TEMPLATE);
    }
  }));
}

/**
 * The template a trail began with. Templates are checked when stored; one stored before they were (by an
 * earlier version that only asked for a YAML mapping) and that no longer parses counts as the empty template
 * rather than making every read of its trail fail. Parsed in this thread only when no `prepareTemplates`
 * ran before (the CLI, tests): the server's read paths prepare first.
 */
export function templateOf(text: string | null): FlowTemplate {
  if (!text) return EMPTY_FLOW_TEMPLATE;
  const cached = parsed.get(text);
  if (cached) return cached;
  let template: FlowTemplate;
  try {
    template = parseFlowTemplate(text);
  } catch {
    template = EMPTY_FLOW_TEMPLATE;
  }
  return remember(text, template);
}

/** Drops every parsed template (tests use it to make the next read parse again). */
export function forgetParsedTemplates(): void {
  parsed.clear();
}
