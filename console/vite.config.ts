/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";

// `npm run dev` serves the console with hot reload and forwards the API to a running
// `maxiofs admin` (default 127.0.0.1:9001; MAXIOFS_CONSOLE_API overrides), so the browser sees
// one origin, as it does when the admin serves the built console.
const api = process.env.MAXIOFS_CONSOLE_API ?? "http://127.0.0.1:9001";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    proxy: {
      "/api": { target: api, changeOrigin: false },
      "/health": { target: api },
    },
  },
  build: {
    // Hashed names under /assets/: the admin serves them as immutable.
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    include: ["src/**/*.test.{ts,tsx}"],
    // The form tests type character by character; on a busy 2-core machine (CI shares it with
    // cargo) one can pass 5 s, vitest's default, without anything being wrong.
    testTimeout: 20_000,
  },
});
