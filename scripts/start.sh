#!/usr/bin/env bash
# The main job (README's first command): install, build, and run the sample app with its worker —
# on the embedded in-memory broker, or on RabbitMQ when AMQP_URL is set.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
pnpm() { bash "$root/scripts/pnpm.sh" "$@"; }
pnpm install --frozen-lockfile --reporter=silent
pnpm -r build >/dev/null || { pnpm -r build; exit 1; }
exec node apps/sample/dist/main.js
