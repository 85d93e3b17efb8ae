#!/usr/bin/env bash
# Installs the real programs the tests drive, from Debian's packages, if they are missing:
# redis-server for the replay store's tests, PostgreSQL for crm-sync's PostgreSQL inbox,
# headless Chromium and its WebDriver (chromedriver) for crm-sync's admin-page test.
# Idempotent: does nothing when everything is there. Needs root (CI runs as root); without
# it, prints what to install and exits 0, so the tests that need it skip (or, with CI=true,
# fail loudly).
set -euo pipefail

# --- redis-server: the shared replay store (bookhook-replay's RedisStore, issue 17) ---
# The test harness (bookhook-testkit's redis_server) starts its own throw-away instance on
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

# --- postgresql: crm-sync's PostgreSQL inbox (issue 14) ---
# The test harness (bookhook-testkit's postgres_server) runs `initdb` into a temp dir and
# starts its own server on 127.0.0.1 with a free port, as the unprivileged `postgres` user
# the package creates; the packaged cluster is neither needed nor created.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "postgresql: installed ($(ls -d /usr/lib/postgresql/*/bin | tail -n1))"
elif [ "$(id -u)" -eq 0 ]; then
    # Debian's postinst would create and start a "main" cluster on port 5432: not wanted.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/bookhook-tests.conf
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql
else
    echo "postgresql: missing; install it with:  sudo apt-get install -y postgresql" >&2
fi
# --- end postgresql ---
# (Sections that never exit come first: the Chromium part below ends the script early.)

# --- chromium ---
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-test-deps: chromium and chromedriver present"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-test-deps: missing ${missing[*]}; as root run:" >&2
    echo "  apt-get update && apt-get install -y chromium chromium-driver" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-dejavu-core
command -v chromium >/dev/null && command -v chromedriver >/dev/null
echo "install-test-deps: installed ${missing[*]}"
