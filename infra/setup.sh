#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine (or a developer's) to build and run Handoff:
# redis-server (for the private Redis of the demo and the tests), pnpm, the locked dependencies,
# and the build. Idempotent; every step already done is skipped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PNPM_VERSION=10.34.8

need_node() {
  if ! command -v node >/dev/null 2>&1; then
    echo "setup: Node.js >= 20.6 is required (https://nodejs.org, or: apt-get install nodejs npm)." >&2
    exit 1
  fi
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=6)?0:1)' || {
    echo "setup: Node.js >= 20.6 is required; found $(node --version)." >&2
    exit 1
  }
}

need_redis_server() {
  command -v redis-server >/dev/null 2>&1 && return 0
  if [ -n "${REDIS_URL:-}" ]; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  else
    echo "setup: redis-server is not installed. Install it (sudo apt-get install redis-server, or brew install redis)," >&2
    echo "       or point REDIS_URL at a Redis >= 6.2 with maxmemory-policy noeviction." >&2
    exit 1
  fi
}

need_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version)" = "$PNPM_VERSION" ]; then return 0; fi
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
}

need_node
need_redis_server
need_pnpm
pnpm install --frozen-lockfile --reporter=append-only | tail -n 3
pnpm build
# Chromium, for the web console's end-to-end test (tests/e2e/console.test.ts drives /usr/bin/chromium).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (for the console's end-to-end test)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: chromium is not installed; the console's end-to-end test will fail until it is (sudo apt-get install chromium)." >&2
  fi
fi
echo "setup: done"
