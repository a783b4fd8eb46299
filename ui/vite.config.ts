import { defineConfig } from 'vite';

// Relative asset URLs: the server rewrites <base href> to the base path,
// so one build works at / and behind a reverse proxy under a prefix.
export default defineConfig({
  base: './',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    target: 'es2022',
    assetsDir: 'assets',
    chunkSizeWarningLimit: 400,
    reportCompressedSize: true,
  },
  worker: { format: 'es' },
  test: { include: ['test/**/*.test.ts'], environment: 'node' },
} as any);
