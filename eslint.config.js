// ESLint 9 flat config: typescript-eslint's type-aware recommended rules, tuned to this code base
// (each rule turned off or down says why). `npm run lint` runs it with `prettier --check`.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  // Build output, benchmarks and scripts (plain node JS, run as they are), the few JS fixtures tests spawn.
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'test-output/', 'bench/', 'prototypes/', 'scripts/', 'docker/', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    rules: {
      // require() is how the gateway loads a module only when a config uses it (jsonwebtoken,
      // rate-limit-redis, http-proxy-middleware: MiBs of resident memory otherwise) and how it
      // reaches undici's private modules (src/upstream/undici.ts); the import is typed at each place.
      '@typescript-eslint/no-require-imports': 'off',
      // A leading underscore marks what is unused on purpose (Express's 4-argument error handler,
      // members left out of a rest object).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Header values (string | number | string[]) and error codes are turned into text on purpose.
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Response bodies (supertest's res.body), parsed YAML/JSON fixtures and manifests are `any`
      // by design; the tests assert their shape.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Hostile inputs on purpose: escape codes in expected output, numbers beyond double precision.
      'no-control-regex': 'off',
      'no-loss-of-precision': 'off',
      // Findings in tests that are style, not defects: shown, not failing.
      '@typescript-eslint/no-unnecessary-type-assertion': 'warn',
      '@typescript-eslint/no-redundant-type-constituents': 'warn',
      '@typescript-eslint/require-await': 'warn',
      '@typescript-eslint/restrict-plus-operands': 'warn',
      '@typescript-eslint/no-misused-promises': 'warn',
      'no-useless-escape': 'warn',
      'no-unexpected-multiline': 'warn',
    },
  },
);
