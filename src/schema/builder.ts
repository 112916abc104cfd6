import SchemaBuilder from '@pothos/core';
import type { ChangeFeed } from '../changes/feed.ts';
import type { Db } from '../db/connect.ts';

export interface Context {
  db: Db;
  changes: ChangeFeed;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: { DateTime: { Input: Date; Output: Date } };
}>({ defaultFieldNullability: false });
