import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { expect, it } from 'vitest';
import config from '../codegen.ts';

// The dashboard's typed operations (web/src/gql) are committed; they must match the schema and
// the operations in web/src. Fix with `npm run codegen`.
it('web/src/gql is what `npm run codegen` generates', async () => {
  const outputs = await generate({ ...config, cwd: process.cwd(), silent: true }, false);
  expect(outputs.length).toBeGreaterThan(0);
  for (const { filename, content } of outputs) {
    const committed = readFileSync(path.resolve(filename), 'utf8');
    expect(committed, `${filename} is stale: run npm run codegen`).toBe(content);
  }
});
