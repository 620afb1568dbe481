#!/usr/bin/env bash
# Debian packages the tests need: chromium (browser tests, driven by Playwright with
# executable_path=/usr/bin/chromium), graphviz's `dot` (SVG export of diagrams), PostgreSQL (a
# throw-away cluster per test run: tests/servers/postgres.py) and nginx (replicas behind one proxy:
# tests/servers/nginx.py). The tests start their own servers on 127.0.0.1, so the packages'
# default services (a cluster on 5432, nginx on port 80 of every address) are kept from starting.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
if [ ! -e /usr/sbin/policy-rc.d ]; then  # Debian's switch for "install, but start no service"
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
