import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/bench/**", "node_modules/**"],
    pool: "forks",
    // integration files each start their own local account (moto + front)
    testTimeout: 60_000,
    hookTimeout: 60_000,
    setupFiles: ["test/support/setup.ts"],
  },
});
