import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const api = process.env.DASHBOARD_API ?? 'http://127.0.0.1:4000';

/**
 * The dashboard: `npm run build:web` writes web/dist, which the server serves at `/`.
 * `npm run dev:web` serves it with hot reload and forwards the API to DASHBOARD_API (`npm start`'s).
 */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/graphql': { target: api, ws: true } } },
});
