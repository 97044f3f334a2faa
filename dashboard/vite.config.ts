import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig, loadEnv, type Plugin } from "vite";

/**
 * public/_headers names the API origin as __API_ORIGIN__: the Content-Security-Policy's connect-src is the one
 * API this build talks to (VITE_API_URL), written into dist/_headers when the bundle is written.
 */
function headers(apiUrl: string): Plugin {
  return {
    name: "keshless-headers",
    apply: "build",
    writeBundle(options) {
      const file = `${options.dir}/_headers`;
      writeFileSync(file, readFileSync(file, "utf8").replaceAll("__API_ORIGIN__", new URL(apiUrl).origin));
    },
  };
}

// The dev server's origin is the API's default KESHLESS_DASHBOARD_ORIGIN (http://localhost:5173): keep them equal.
export default defineConfig(({ mode }) => {
  const apiUrl = loadEnv(mode, process.cwd(), "VITE_").VITE_API_URL || "http://localhost:8080";
  return {
    plugins: [react(), tailwindcss(), headers(apiUrl)],
    define: { "import.meta.env.VITE_API_URL": JSON.stringify(apiUrl) },
    resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
    server: { host: "localhost", port: 5173, strictPort: true },
    build: { sourcemap: false, chunkSizeWarningLimit: 900 },
  };
});
