#!/usr/bin/env bash
# Make sure Debian's Chromium and its driver are installed, for the real-browser tests.
# Installs them with apt-get when missing (needs root, as on CI); otherwise says what to run.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium and chromium-driver (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  exit 0
fi
echo "Chromium and chromedriver are needed for the browser tests." >&2
echo "Install them, e.g.: sudo apt-get install chromium chromium-driver" >&2
exit 1
