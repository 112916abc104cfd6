import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed operations for the dashboard: `graphql()` from web/src/gql returns a TypedDocumentNode
 * for each operation written in web/src. Run `npm run codegen` after changing an operation or
 * schema/schema.graphql; test/dashboard-codegen.test.ts fails while the output is stale.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['web/src/**/*.{ts,tsx}', '!web/src/gql/**'],
  ignoreNoDocuments: true,
  generates: {
    'web/src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
        // `./graphql.js` rather than `./graphql`: the typecheck resolves imports as Node does.
        emitLegacyCommonJSImports: false,
      },
    },
  },
};

export default config;
