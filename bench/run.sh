#!/usr/bin/env bash
# Data-plane benchmark: authgate and nginx as reverse proxies in front of the same backend.
# Installs nginx and wrk from Debian when they are missing, then runs bench/dataplane.py
# (arguments pass through: --duration, --warmup, --connections, --rounds, --strict).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    $sudo apt-get install -y "${missing[@]}"
fi

bash scripts/services.sh  # redis-server, for the Redis-counter rows

python=.venv/bin/python
[ -x "$python" ] || python=python3
exec "$python" bench/dataplane.py "$@"
