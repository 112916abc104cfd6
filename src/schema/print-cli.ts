import { writeFileSync } from 'node:fs';
import { printedSchema, printedSchemaPath } from './print.ts';

writeFileSync(printedSchemaPath, printedSchema());
console.log(`wrote ${printedSchemaPath}`);
