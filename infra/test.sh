#!/usr/bin/env bash
# Sets up a fresh machine and runs the whole test suite.
# Redis for the tests comes from testcontainers when a container engine answers (on CI: rootful
# podman, set up here), else from a redis-server process, else from REDIS_URL; the output says which.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash infra/setup.sh
if [ "${HANDOFF_SKIP_PODMAN:-}" != 1 ]; then bash infra/podman/setup.sh; fi
pnpm test
