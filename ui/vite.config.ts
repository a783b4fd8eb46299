import { defineConfig, Plugin } from 'vite';

/** Writes the built worker's file name into index.html, which starts the worker before the app loads. */
const workerUrlInHtml = (): Plugin => ({
  name: 'clew-worker-url',
  transformIndexHtml: {
    order: 'post',
    handler(html, ctx) {
      const file = Object.keys(ctx.bundle ?? {}).find((f) => /(^|\/)worker-[\w-]+\.js$/.test(f));
      return file ? html.replace('__CLEW_WORKER_URL__', file) : html;
    },
  },
});

// Relative asset URLs: the server rewrites <base href> to the base path,
// so one build works at / and behind a reverse proxy under a prefix.
export default defineConfig({
  base: './',
  plugins: [workerUrlInHtml()],
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
