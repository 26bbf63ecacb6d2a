// ESLint rule `evident/layers`: imports between the folders of src/ go one way only (DESIGN.md §5),
// and a folder is entered only through its public surface (its index.ts).
import path from 'node:path';

/** Highest layer first; a layer may import only layers listed after it. */
export const LAYERS = ['cli', 'server', 'web', 'client', 'pipeline', 'services', 'store', 'ledger', 'formats', 'core'];

function layerOf(file, srcRoot) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const first = rel.split(path.sep)[0];
  return LAYERS.includes(first) ? first : undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Keep imports between src/ layers one-way and through index.ts' },
    schema: [],
    messages: {
      upward: "'{{from}}' may not import '{{to}}': {{to}} is a higher layer (DESIGN.md section 5).",
      deep: "Import '{{to}}' through its public surface '{{to}}/index.js', not '{{spec}}'.",
    },
  },
  create(context) {
    const file = context.filename;
    const srcRoot = path.join(context.cwd, 'src');
    const from = layerOf(file, srcRoot);
    if (!from) return {};
    function check(node, spec) {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), spec);
      const to = layerOf(target, srcRoot);
      if (!to || to === from) return;
      if (LAYERS.indexOf(to) < LAYERS.indexOf(from)) {
        context.report({ node, messageId: 'upward', data: { from, to } });
        return;
      }
      const inside = path.relative(path.join(srcRoot, to), target);
      if (inside !== 'index.js' && inside !== 'index.ts' && inside !== '') {
        context.report({ node, messageId: 'deep', data: { to, spec } });
      }
    }
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};
