import { testServerStopped } from './server-stopped.ts';

await testServerStopped('fast');
