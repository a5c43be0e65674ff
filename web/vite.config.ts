// Vite build of the staff dashboard: served by the api under /app (base), TSX compiled by Vite's built-in oxc
// transform with React's automatic JSX runtime (no plugin needed for a production build).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/app/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // One small app: no point warning about a chunk that is React plus a few pages.
    chunkSizeWarningLimit: 800,
  },
  // `npx vite web` during development: the page at :5173/app/, the API of a running `npm start`.
  server: { proxy: { '/api': 'http://localhost:8080' } },
});
