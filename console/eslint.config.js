// Lint rules for the console: the recommended sets of ESLint and typescript-eslint, and the
// rules of hooks (a hook called conditionally is a bug React only reports at run time).
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist", "node_modules"] },
  {
    files: ["**/*.{ts,tsx}"],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { globals: globals.browser },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // Only fetch goes through src/api; a stray console call is leftover debugging.
      "no-console": "error",
    },
  },
  {
    files: ["e2e/**/*.mjs"],
    extends: [js.configs.recommended],
    // Node, plus the browser for the callbacks page.evaluate runs in the page.
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
