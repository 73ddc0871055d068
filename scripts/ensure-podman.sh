#!/usr/bin/env bash
# Make sure podman can build and run the Dockerfile here, for the container test (tests/test_container.py).
#
# - installs podman and friends with apt-get when missing (needs root, as on CI);
# - writes a containers.conf that works on our machines (runc; crun fails on their cgroups) to $GSX_CONTAINERS_CONF;
# - makes a local base image, localhost/debian-python:test (Debian bookworm + Python 3.11 via debootstrap),
#   because no registry can be reached: the Dockerfile's BASE_IMAGE build argument takes it.
set -euo pipefail
conf="$(realpath -m "${GSX_CONTAINERS_CONF:-build/containers.conf}")"  # absolute: podman's copier runs elsewhere
base="localhost/debian-python:test"

if ! command -v podman >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing podman (apt-get)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq podman buildah fuse-overlayfs slirp4netns uidmap debootstrap runc >/dev/null
  else
    echo "podman and debootstrap are needed for the container test; e.g.: sudo apt-get install podman debootstrap runc" >&2
    exit 1
  fi
fi

mkdir -p "$(dirname "$conf")"
cat > "$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$conf"

if ! podman image exists "$base"; then
  echo "making the local base image $base (debootstrap, a few minutes)..." >&2
  rootfs="$(mktemp -d)"
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  rm -f "$rootfs"/usr/lib/python3.11/EXTERNALLY-MANAGED
  ln -sf python3 "$rootfs/usr/bin/python"
  tar --numeric-owner -C "$rootfs" -c . | podman import --change 'CMD ["python3"]' - "$base" >/dev/null
fi
