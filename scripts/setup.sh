#!/usr/bin/env bash
# Set-up on a fresh Debian 12 with only Debian's Python: Debian tools, then a project virtual environment
# (.venv) holding exactly the versions in requirements.lock. A second run with nothing changed installs
# nothing and touches no network (a stamp in the environment records what was installed from what).
#
#   scripts/setup.sh          what `hotline demo` needs (make run)
#   scripts/setup.sh --test   also the test tools and the Debian tools of the test suite:
#                             debootstrap for the Asterisk lab, SIPp (sip-tester), sox and espeak-ng for audio,
#                             mosquitto (the MQTT tests start their own broker; its Debian service is not used),
#                             chromium (the browser tests drive Debian's build through Playwright; Playwright's own
#                             browser downloads are never used), kannel and kannel-extras (the SMS tests start
#                             their own bearerbox, smsbox and fakesmsc; Debian's kannel service is not used)
#
# PY names the Python that makes the environment [python3, 3.11 or newer]; VENV its folder [.venv].
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
VENV=${VENV:-.venv}
extras=""
case "${1:-}" in
  "") ;;
  --test) extras="test" ;;
  *) echo "setup: unknown option ${1} (use --test)" >&2; exit 2 ;;
esac

say() { echo "setup: $*" >&2; }

if ! command -v "$PY" >/dev/null 2>&1; then
  say "no '$PY' on PATH; on Debian: apt-get install python3 python3-venv (or set PY=/path/to/python3.11+)"
  exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  say "$PY is $("$PY" -c 'import platform; print(platform.python_version())'); hotline needs Python 3.11 or newer (set PY=...)"
  exit 1
fi

# libopus0: the recorder writes its Ogg Opus files through it (recording/opus_lib.py), with or without extras;
# ghostscript and libtiff-tools: a PDF to fax becomes a TIFF (gs), a fax received becomes a PDF (tiff2pdf)
debs=(libopus0 ghostscript libtiff-tools)
# postgresql-15: the tests start a private server of it (tests/postgres.py); its client's pg_dump and
# pg_restore make `hotline db backup|restore` of a PostgreSQL store
[ -n "$extras" ] && debs+=(debootstrap sip-tester sox espeak-ng mosquitto chromium postgresql-15 postgresql-client-15
                       kannel kannel-extras)
# Debian splits venv's pip bootstrap (ensurepip) into python3-venv
"$PY" -c 'import ensurepip' >/dev/null 2>&1 || debs+=(python3-venv)
missing=()
# installed means "install ok installed": a package removed but not purged still answers dpkg -s
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
for p in "${debs[@]+"${debs[@]}"}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "these Debian packages are missing and installing them needs root: ${missing[*]}"
    say "run as root, or first: sudo apt-get install ${missing[*]}"
    exit 1
  fi
  say "apt-get install ${missing[*]}"
  # the machine's own apt sources are used as they are; snapshot mirrors may carry expired Release files
  apt-get -o Acquire::Check-Valid-Until=false update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

stamp="$VENV/.hotline-setup"
want="$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16) $("$PY" -c 'import sys; print(sys.version.split()[0])')"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c '' 2>/dev/null && [ -f "$stamp" ]; then
  read -r have_hash have_py have_extras < "$stamp" || true
  if [ "$have_hash $have_py" = "$want" ]; then
    ok=1
    for e in ${extras//,/ }; do [[ ",${have_extras:-}," == *",$e,"* ]] || ok=0; done
    if [ $ok = 1 ]; then
      say "$VENV is up to date with requirements.lock"
      exit 0
    fi
  fi
else
  rm -rf "$VENV"
  say "creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi

pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
# The build backend comes from the lock too, so the editable install builds without fetching its own
"${pip[@]}" install -c requirements.lock setuptools
"${pip[@]}" install -c requirements.lock --no-build-isolation -e ".${extras:+[$extras]}"
echo "$want ${extras:-none}" > "$stamp"
say "$VENV ready (extras: ${extras:-none})"
