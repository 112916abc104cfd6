import SchemaBuilder from '@pothos/core';
import type { Access } from '../auth/access.ts';
import type { ChangeSource } from '../changes/source.ts';
import type { Db } from '../db/connect.ts';

export interface Context {
  db: Db;
  changes: ChangeSource;
  /** Who calls, and so what it may see and do (src/auth); everything while auth is off. */
  access: Access;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: { DateTime: { Input: Date; Output: Date } };
}>({ defaultFieldNullability: false });
