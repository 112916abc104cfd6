import { orderScope, writeScope as writeScopeOf } from '../auth/scope.ts';
import type { OrderScope } from '../orders/scope.ts';
import type { Context } from './builder.ts';

/** The caller's orders: all of them, or a customer's own (src/orders/scope.ts). */
export const readScope = ({ access }: Context): OrderScope => orderScope(access);

/** The same for a write, which a reader may not make (FORBIDDEN). */
export const writeScope = ({ access }: Context): OrderScope => writeScopeOf(access);
