#!/usr/bin/env bash
# Installs the Debian packages funneld needs to build, test, lint and run,
# when they are missing. Uses sudo when not root. Safe to run repeatedly.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  librdkafka-dev libevent-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  libconfig-dev libsystemd-dev libjson-c-dev libcriterion-dev libxxhash-dev
  clang-tidy valgrind clang libclang-rt-dev
  # installing: the Debian package (scripts/deb.sh), the unit's and the
  # manual page's checks (tests/install)
  debhelper dpkg-dev lintian systemd man-db groff-base mandoc
  prometheus
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
