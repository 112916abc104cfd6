import path from 'node:path';
import { printSchema } from 'graphql';
import { projectRoot } from '../project-root.ts';
import { schema } from './index.ts';

export const printedSchemaPath = path.join(projectRoot, 'schema', 'schema.graphql');

export const printedSchema = () => `${printSchema(schema)}\n`;
