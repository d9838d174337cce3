/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The server's one entry for the dashboard (its API's types and a few pure helpers): the only way the dashboard's
 * sources reach into packages/server, here and in tsconfig.json's `paths`.
 */
const SERVER_API = fileURLToPath(new URL('../server/src/admin/api-types.ts', import.meta.url));

// base './': the admin listener serves index.html at / and the assets beside it, wherever it is mounted.
export default defineConfig({
  base: './',
  plugins: [react()],
  resolve: { alias: { '@fulcrum/server-api': SERVER_API } },
  build: { outDir: 'dist', emptyOutDir: true },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    // test-renders.ts first: it installs its hook before react-dom loads.
    setupFiles: ['./src/test-renders.ts', './src/test-setup.ts'],
  },
});
