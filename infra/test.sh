#!/usr/bin/env bash
# Sets up a fresh machine and runs the whole test suite.
# Redis for the tests comes from testcontainers when a container engine answers (on CI: rootful
# podman, set up here), else from a redis-server process, else from REDIS_URL; the output says which.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash infra/setup.sh
# openssl makes the certificates of the TLS test's private Redis.
if ! command -v openssl >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
fi
if [ "${HANDOFF_SKIP_PODMAN:-}" != 1 ]; then bash infra/podman/setup.sh; fi
pnpm test
