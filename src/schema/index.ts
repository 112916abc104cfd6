import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import './root-types.ts';
import './date-time.ts';
import './order.ts';
import './order-connection.ts';
import './order-change.ts';

export const schema = lexicographicSortSchema(builder.toSchema());
