/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// base './': the admin listener serves index.html at / and the assets beside it, wherever it is mounted.
export default defineConfig({
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    // test-renders.ts first: it installs its hook before react-dom loads.
    setupFiles: ['./src/test-renders.ts', './src/test-setup.ts'],
  },
});
