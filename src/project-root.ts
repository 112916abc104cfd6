import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The checkout's root, whether this module runs as src/project-root.ts (tsx, vitest) or as the
 * compiled dist/src/project-root.js (`npm start`): files that are not compiled (web/dist,
 * schema/) are found from here.
 */
export const projectRoot = existsSync(path.join(here, '..', 'package.json'))
  ? path.resolve(here, '..')
  : path.resolve(here, '..', '..');
