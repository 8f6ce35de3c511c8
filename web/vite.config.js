// The page is served by roamd under /app (crates/roamd/src/web.rs), so it is built for that base.
// `npm run dev` serves it from Vite instead: open it with ?server=http://127.0.0.1:5280&appKey=org%23app.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/app/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The SDK is one ~600 kB bundle; it is what the page is for.
    chunkSizeWarningLimit: 1000,
    rolldownOptions: {
      onLog(level, log, handler) {
        // The SDK's own bundle uses eval; that is the SDK's, unmodified, not ours to change.
        if (log.code === 'EVAL' && String(log.id || log.message).includes('easemob-websdk')) return;
        handler(level, log);
      },
    },
  },
});
