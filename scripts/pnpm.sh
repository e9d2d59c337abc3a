#!/usr/bin/env bash
# Runs the pinned pnpm, installing it first when the machine has none (or a different version).
# A machine-wide pnpm of the pinned version is used as is; otherwise a private copy is put in .tools/
# with npm, so nothing global is touched and no root rights are needed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want="$(node -p "require('$root/package.json').packageManager.split('@')[1]")"
if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$want" ]; then
  exec pnpm "$@"
fi
local_bin="$root/.tools/node_modules/.bin/pnpm"
if [ ! -x "$local_bin" ] || [ "$("$local_bin" --version 2>/dev/null)" != "$want" ]; then
  echo "installing pnpm $want into .tools/ ..." >&2
  npm install --silent --no-audit --no-fund --prefix "$root/.tools" "pnpm@$want" >&2
fi
export PATH="$root/.tools/node_modules/.bin:$PATH"
exec "$local_bin" "$@"
