#!/usr/bin/env bash
# Sets up a fresh machine and runs the demo: the customer-service network as separate gateway and
# worker processes. Offline with a scripted model unless OPENAI_API_KEY is set; a private Redis
# unless REDIS_URL is set. Extra arguments are questions to ask instead of the built-in ones.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash infra/setup.sh >&2
exec node examples/dist/customer-service/demo.js "$@"
