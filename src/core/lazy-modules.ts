import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type * as FastXmlParser from 'fast-xml-parser';

// The YAML and XML libraries, loaded on first use. Both are needed by few commands but were imported by
// modules every command loads (the formats barrel, the runner), costing every start-up their load time
// (docs/performance.md "The runner"). Both packages ship CommonJS for Node (yaml only CommonJS), so a
// synchronous require keeps the callers synchronous and loads the same copy an `import` would.

const requireCjs = createRequire(import.meta.url);
let yamlModule: typeof Yaml | undefined;
let xmlModule: typeof FastXmlParser | undefined;

export function yamlLib(): typeof Yaml {
  return (yamlModule ??= requireCjs('yaml') as typeof Yaml);
}

export function xmlLib(): typeof FastXmlParser {
  return (xmlModule ??= requireCjs('fast-xml-parser') as typeof FastXmlParser);
}
