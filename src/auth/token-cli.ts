import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { loadDotEnv, parseDuration } from '../config.ts';
import { mintToken } from './mint-token.ts';

const USAGE = `Usage: npm run token -- --role ROLE [--customer NAME] [--sub NAME] [--ttl 1h]

Prints a development token signed with AUTH_JWT_SECRET (from the environment or .env).
  --role      reader, writer or customer
  --customer  for --role customer: the customerName whose orders it sees
  --sub       the subject, shown as changedBy "api:<sub>" (default: your user name)
  --ttl       lifetime: 90s, 15m, 1h, 7d (default 1h)

Use it as: curl -H "Authorization: Bearer $(npm run -s token -- --role reader)" …`;

loadDotEnv();
try {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      role: { type: 'string' },
      customer: { type: 'string' },
      sub: { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const secret = process.env.AUTH_JWT_SECRET?.trim();
  if (!secret) throw new Error('AUTH_JWT_SECRET is not set (in the environment or .env)');
  if (!values.role) throw new Error('--role is required');
  const token = await mintToken({
    secret,
    role: values.role,
    customer: values.customer,
    subject: values.sub ?? userInfo().username,
    ttlMs: parseDuration('--ttl', values.ttl ?? '1h'),
    issuer: process.env.AUTH_JWT_ISSUER?.trim() || undefined,
    audience: process.env.AUTH_JWT_AUDIENCE?.trim() || undefined,
  });
  console.log(token);
} catch (error) {
  const message = (error as Error).message.split('\n')[0];
  console.error(`token: ${message}\n\n${USAGE}`);
  process.exit(2);
}
