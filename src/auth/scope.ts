import { forbidden, type OrderScope } from '../orders/scope.ts';
import { type Access, actorOf, mayWrite } from './access.ts';

/** The orders a caller sees: all of them, or a customer's own; writes recorded as `api:<sub>`. */
export function orderScope(access: Access): OrderScope {
  return { customer: access.customer, actor: actorOf(access) };
}

/** The same for a write, which a reader may not make (FORBIDDEN, REST 403). */
export function writeScope(access: Access): OrderScope {
  if (!mayWrite(access)) throw forbidden(`the role ${access.role} may not write`);
  return orderScope(access);
}
