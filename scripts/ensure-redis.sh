#!/usr/bin/env bash
# Make sure Debian's redis-server is installed, for the multi-host test (tests/test_multihost.py), which starts
# its own server on a loopback port and stops it again. Installs it with apt-get when missing (needs root, as
# on CI); otherwise says what to run. No Redis service is started or enabled.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing redis-server (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  exit 0
fi
echo "redis-server is needed for the multi-host test; e.g.: sudo apt-get install redis-server" >&2
exit 1
