#!/usr/bin/env bash
# The browser tests' Chromium: Debian's chromium and chromium-driver, of one major version, MIN_MAJOR or newer
# (the suite has passed with 150 and 156). When they are missing, older, or the driver's version differs from the
# browser's, installs or upgrades both with apt-get after refreshing its lists (as root, as on CI: a machine whose
# lists were never refreshed offers only an old Chromium); otherwise says what to run.
#   --check   change nothing: exit 1 with the reason when the installed pair is not supported (tests/conftest.py)
set -euo pipefail
MIN_MAJOR=150

major() { "$1" --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -n 1 | cut -d. -f1; }

# Why the installed pair cannot run the browser tests; nothing when it can.
problem() {
  command -v chromium >/dev/null 2>&1 || { echo "Chromium is not installed"; return; }
  command -v chromedriver >/dev/null 2>&1 || { echo "chromedriver is not installed"; return; }
  local browser driver
  browser=$(major chromium)
  driver=$(major chromedriver)
  if [ -z "$browser" ] || [ "$browser" -lt "$MIN_MAJOR" ]; then
    echo "Chromium ${browser:-of unknown version} is older than $MIN_MAJOR, the oldest the browser tests support"
  elif [ "$browser" != "$driver" ]; then
    echo "chromedriver ${driver:-of unknown version} does not match Chromium $browser"
  fi
}

why=$(problem)
[ -z "$why" ] && exit 0
if [ "${1:-}" = "--check" ]; then
  echo "$why: run scripts/ensure-chromium.sh, which installs or upgrades Debian's chromium and chromium-driver" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "$why: installing the current chromium and chromium-driver (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  why=$(problem)
  [ -z "$why" ] && exit 0
  echo "After apt-get: $why." >&2
  exit 1
fi
echo "$why; the browser tests need Debian's chromium and chromium-driver, $MIN_MAJOR or newer." >&2
echo "Install or upgrade them: sudo apt-get update && sudo apt-get install chromium chromium-driver" >&2
exit 1
