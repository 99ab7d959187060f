#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine (or a developer's) to build and run Handoff:
# redis-server (for the private Redis of the demo and the tests), PostgreSQL's server binaries (the
# archive tests start a private server of their own), pnpm, the locked dependencies, and the build. Idempotent; every step already done is skipped.
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

# The archive tests (tests/integration/archive.test.ts, tests/faults/archive-outage.test.ts) start a
# private PostgreSQL with initdb/postgres on a free port; they never use a system server on 5432.
# Debian's package puts the binaries in /usr/lib/postgresql/<major>/bin. Installing it may start the
# distribution's own cluster on 5432 where a service manager runs; the tests leave it alone.
need_postgres_binaries() {
  if command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then return 0; fi
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then return 0; fi
  if [ -n "${HANDOFF_TEST_POSTGRES_URL:-}" ]; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing postgresql (the archive tests start a private server)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  else
    echo "setup: PostgreSQL is not installed; the archive tests will fail until it is (sudo apt-get install postgresql)," >&2
    echo "       or point HANDOFF_TEST_POSTGRES_URL at a database the tests may create tables in." >&2
  fi
}

need_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version)" = "$PNPM_VERSION" ]; then return 0; fi
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
}

need_node
need_redis_server
need_postgres_binaries
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
