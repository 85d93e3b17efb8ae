#!/usr/bin/env bash
# Installs the real services the tests start (never mocks), from Debian's packages, only
# when missing: idempotent, a second run installs nothing. apt-get needs root; without it,
# each section prints exactly what to install (the tests then skip, or fail with CI=true).
# `.ci/run` calls it before the tests.
#
# One self-contained section per service (no shared state), so branches adding services
# merge by concatenating their sections.
set -euo pipefail

# --- redis-server: the shared replay store (bookhook-replay's RedisStore, issue 17) ---
# The test harness (tests/src/redis_server.rs) starts its own throw-away instance on
# 127.0.0.1 with a free port and a temp dir; the packaged service is not used.
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
    echo "redis-server: installed ($(/usr/bin/env redis-server --version 2>/dev/null | head -n1 || echo /usr/bin/redis-server))"
elif [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server
else
    echo "redis-server: missing; install it with:  sudo apt-get install -y redis-server" >&2
fi
# --- end redis-server ---
