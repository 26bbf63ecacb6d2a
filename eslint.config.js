import tseslint from 'typescript-eslint';
import { layersRule } from './tools/eslint-layers.js';

// ESLint reads its configuration from the default export.
export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/fixtures/**', 'test/vectors/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { evident: { rules: { layers: layersRule } } },
    rules: {
      'evident/layers': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['eslint.config.js'], rules: { 'no-restricted-syntax': 'off' } },
);
