#!/usr/bin/env bash
# Builds the web console (console/dist) that `maxiofs` embeds: `npm ci` when the lock file
# changed, `npm run build` when a source changed, then a gzip copy of each large text file
# (the admin sends those to browsers that accept gzip). Skips what is up to date, so it is
# cheap to run before every cargo build. Needs node >= 20.19 and npm (Debian: nodejs npm).
#
#   scripts/build-console.sh           build if needed
#   FORCE=1 scripts/build-console.sh   build anyway
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
console="$repo/console"
cd "$console"

if ! command -v npm >/dev/null 2>&1; then
    echo "build-console: npm not found (Debian: apt-get install nodejs npm)" >&2
    exit 1
fi

# Vite 8 needs node 20.19+ (Debian's nodejs 20 has it); older ones fail deep in the build.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
              process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
    echo "build-console: node $(node --version) is too old: 20.19 or newer is needed" >&2
    exit 1
fi

# Dependencies: reinstalled only when package-lock.json changed since the last install.
lock_stamp="node_modules/.lock.sha256"
lock_want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ "$(cat "$lock_stamp" 2>/dev/null)" != "$lock_want" ]]; then
    echo "build-console: npm ci"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_want" >"$lock_stamp"
fi

# The build: skipped when no input is newer than the last build's stamp.
# The stamp lives outside dist/ so that it is not embedded and served.
stamp="node_modules/.console-build-stamp"
inputs=(index.html package.json package-lock.json vite.config.ts tsconfig.json src public)
if [[ "${FORCE:-0}" != 1 && -f "$stamp" && -f dist/index.html ]] \
    && [[ -z "$(find "${inputs[@]}" -newer "$stamp" -print -quit)" ]]; then
    echo "build-console: console/dist is up to date"
    exit 0
fi
echo "build-console: npm run build"
npm run build --silent
# Precompressed copies (same mtime as the original, so the embedding sees one change).
find dist -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) \
    -size +1k -exec gzip -9 -k -n -f {} \;
touch "$stamp"
echo "build-console: built console/dist ($(du -sh dist | cut -f1))"
