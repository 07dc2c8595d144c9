#!/usr/bin/env bash
# Services the test suite runs for itself: installs what is missing, starts nothing.
# Idempotent and quick when everything is there already (no apt-get call at all).
# The tests start their own private redis-server and PostgreSQL cluster (initdb into a
# temporary directory), so Debian's default cluster is neither needed nor used.
set -euo pipefail

has_postgres_server() {
    local bindir
    bindir="$(pg_config --bindir 2>/dev/null || true)"
    [ -n "$bindir" ] && [ -x "$bindir/postgres" ] && [ -x "$bindir/initdb" ] && return 0
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

missing=()
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
has_postgres_server || missing+=(postgresql)
# The hosted sign-in pages are tested in a real browser (Playwright driving this Chromium).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update
    $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
