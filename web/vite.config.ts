// Builds the dashboard into dist/web (served by Hangar at /ui/); `npm run build` runs it after the server's compile.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // No CDN, no remote fonts: the dashboard works offline.
    assetsInlineLimit: 0,
  },
  server: {
    // `npx vite web` during development, talking to a Hangar on its default port.
    proxy: {
      '/api': 'http://127.0.0.1:8001',
      '/models': 'http://127.0.0.1:8001',
      '/config': 'http://127.0.0.1:8001',
      '/health': 'http://127.0.0.1:8001',
    },
  },
});
