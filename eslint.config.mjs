// Lint is part of CI (`.ci/run`). The module-boundary rule is what keeps the architecture honest:
// services talk only over Kafka, so a service importing another service is a build failure, and the
// contracts library stays framework-free so any producer (Nest or not) can depend on it.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const frameworkPackages = ['@nestjs/*', 'typeorm', 'pg', 'kafkajs', 'smpp', 'opossum', 'fastify', '@opentelemetry/*', 'pino'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.gateway/**', '.nx/**', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'describe', 'it', 'suite'], package: 'node:test' }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // Pure code (text encoding): depends on nothing of ours and no framework.
            { sourceTag: 'type:pure', onlyDependOnLibsWithTags: ['type:pure'], bannedExternalImports: frameworkPackages },
            // Event contracts: plain schemas and names, usable by any producer, never a framework.
            {
              sourceTag: 'type:contracts',
              onlyDependOnLibsWithTags: ['type:pure'],
              bannedExternalImports: frameworkPackages,
            },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:pure'] },
            // A service may use libraries, never another service: Kafka is the only wire between them.
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:pure'] },
            // The SMPP session library belongs to carrier-dispatch alone.
            { sourceTag: 'scope:ingest', notDependOnLibsWithTags: ['scope:carrier-only'] },
            { sourceTag: 'scope:router', notDependOnLibsWithTags: ['scope:carrier-only'] },
            { sourceTag: 'scope:dlr-processor', notDependOnLibsWithTags: ['scope:carrier-only'] },
            { sourceTag: 'scope:notifier', notDependOnLibsWithTags: ['scope:carrier-only'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:pure'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:pure', 'type:testing', 'type:tool'] },
            // e2e is black-box: it drives the running services through HTTP and Kafka, never their code.
            {
              sourceTag: 'type:e2e',
              onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:pure', 'type:testing', 'type:tool'],
            },
          ],
        },
      ],
    },
  },
  {
    // Test files may use the shared test helpers (real-stack fixtures); production code may not.
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:pure', 'type:testing'], bannedExternalImports: frameworkPackages },
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:pure', 'type:testing'] },
            { sourceTag: 'scope:ingest', notDependOnLibsWithTags: ['scope:carrier-only'] },
            { sourceTag: 'scope:router', notDependOnLibsWithTags: ['scope:carrier-only'] },
            { sourceTag: 'scope:dlr-processor', notDependOnLibsWithTags: ['scope:carrier-only'] },
            { sourceTag: 'scope:notifier', notDependOnLibsWithTags: ['scope:carrier-only'] },
            { sourceTag: 'type:pure', onlyDependOnLibsWithTags: ['type:pure'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:pure', 'type:testing'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:pure'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:pure', 'type:testing', 'type:tool'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:pure', 'type:testing', 'type:tool'] },
          ],
        },
      ],
    },
  },
  prettier,
);
