#!/usr/bin/env bash
# Install everything the project needs on a fresh Debian 12 machine: Debian tools, then the Python package.
# The main job (`hotline demo`) needs only Python packages; --test adds what the test suite needs:
# debootstrap for the Asterisk lab, SIPp (Debian's sip-tester), sox for test audio and espeak-ng for prompts.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

debs=()
[ $want_test = 1 ] && debs+=(debootstrap sip-tester sox espeak-ng)
missing=()
for p in "${debs[@]+"${debs[@]}"}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: need root to apt-get install: ${missing[*]}" >&2
    exit 1
  fi
  # the machine's own apt sources are used as they are; snapshots may carry expired Release files
  apt-get -o Acquire::Check-Valid-Until=false update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"
