// Lint: type-aware rules for the TypeScript code and its tests (a promise nobody awaits, or one
// passed where the caller ignores what it returns; unused code), plain rules for the launchers.
import { js, tseslint } from 'chargebench-lint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'reports/out/', 'coverage/', 'tools/lint/node_modules/'] },
  {
    files: ['{ocpp-j,sim,backend,scenarios,reports,bin,test}/**/*.ts', 'vitest.config.ts', 'vitest.*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // OCPP payloads and ocpp-rpc (which ships loose types) meet the code as `any` at the edges.
      '@typescript-eslint/no-explicit-any': 'off',
      // The only control characters in regular expressions are the XML validity checks, on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
);
