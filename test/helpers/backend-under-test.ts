/**
 * Whether this vitest project runs the shared test files on MySQL/MariaDB (vitest.config.ts's
 * `mysql` project sets TEST_BACKEND=mysql): for the few steps that differ by backend, and for
 * `skipIf` where something cannot apply there (with the reason next to it).
 */
export const onMysql = process.env.TEST_BACKEND === 'mysql';
