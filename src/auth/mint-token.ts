import { SignJWT } from 'jose';
import { ROLES } from './access.ts';

export interface MintOptions {
  secret: string;
  role: string;
  customer?: string | undefined;
  subject: string;
  ttlMs: number;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/** An HS256 development token, as the server with AUTH_JWT_SECRET accepts it. */
export function mintToken(options: MintOptions): Promise<string> {
  if (!(ROLES as readonly string[]).includes(options.role)) {
    throw new Error(`--role must be one of ${ROLES.join(', ')} (got ${options.role})`);
  }
  if (options.role === 'customer' && !options.customer?.trim()) {
    throw new Error('--role customer needs --customer NAME (the customerName its orders carry)');
  }
  const claims: Record<string, string> = { role: options.role };
  if (options.role === 'customer' && options.customer) claims.customer = options.customer;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.subject)
    .setIssuedAt()
    .setExpirationTime(Math.floor((Date.now() + options.ttlMs) / 1000));
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
