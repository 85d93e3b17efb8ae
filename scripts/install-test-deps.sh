#!/usr/bin/env bash
# Installs the real programs the tests drive, from Debian's packages, if they are missing:
# headless Chromium and its WebDriver (chromedriver) for crm-sync's admin-page test.
# Idempotent: does nothing when everything is there. Needs root (CI runs as root); without
# it, prints what to install and exits 0, so the tests that need it skip (or, with CI=true,
# fail loudly).
set -euo pipefail

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
