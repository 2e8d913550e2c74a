#!/usr/bin/env bash
# Install everything Robocore and its tests need on a fresh Debian/Ubuntu machine:
# Debian's Chromium (Playwright cannot download browsers on closed networks), Xvfb and
# the Qt libraries for the tray launcher, then a virtualenv with Robocore and its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(python3-venv chromium xvfb xauth trayer xdotool desktop-file-utils libxcb-cursor0 libxkbcommon-x11-0
          libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0
          libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core
          nginx-light openssl systemd)  # the deploy/ tests: nginx -t, a TLS certificate, systemd-analyze
# the sign-in tests run an OpenID Connect provider on Node.js (tests/oidc, `npm ci` from its lock); machines
# that have a Node.js already (NodeSource's bundles npm) keep it: Debian's npm would conflict with it
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "setup: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install ${missing[*]} (not a Debian system)" >&2
  fi
fi

# Python packages: exactly the locked versions, with their hashes (requirements/README.md).
# LOCK=requirements/bench.txt adds the benchmarks' baselines; VENV picks another folder.
venv=${VENV:-.venv}
lock=${LOCK:-requirements/test.txt}
python=${PYTHON:-python3}
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
uv_version=$(grep -oP '^uv==\K[^ ]+' requirements/bootstrap.txt) \
  || { echo "setup: requirements/bootstrap.txt pins no uv version" >&2; exit 1; }
if ! "$venv/bin/uv" --version 2>/dev/null | grep -qF "uv $uv_version"; then
  log=$(mktemp)
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check --require-hashes \
       -r requirements/bootstrap.txt >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; echo "setup: installing uv $uv_version failed" >&2; exit 1
  fi
  rm -f "$log"
fi
if [ -n "${LATEST:-}" ]; then  # make test-latest: the newest versions allowed, not the lock
  "$venv/bin/uv" pip install -q --compile-bytecode --python "$venv/bin/python" --upgrade --reinstall-package robocore \
    -e ".[test,postgres]" || { echo "setup: installing the latest versions failed" >&2; exit 1; }
else
  "$venv/bin/uv" pip sync -q --compile-bytecode --python "$venv/bin/python" --require-hashes "$lock" \
    || { echo "setup: installing $lock failed" >&2; exit 1; }
  "$venv/bin/uv" pip install -q --python "$venv/bin/python" --no-deps --no-build-isolation -e . \
    || { echo "setup: installing robocore failed" >&2; exit 1; }
fi
# an editable install compiles nothing (and PYTHONDONTWRITEBYTECODE=1 keeps Python from caching it):
# compiled here as any install compiles its package, `robo` does not compile 80 modules at every start
"$venv/bin/python" -m compileall -q robocore \
  || { echo "setup: compiling robocore failed" >&2; exit 1; }
"$venv/bin/python" -c "import robocore, playwright, openpyxl, python_calamine" \
  || { echo "setup: the Python install failed" >&2; exit 1; }
what=$lock; [ -z "${LATEST:-}" ] || what="newest versions allowed"
echo "setup: ready ($venv, $what)" >&2
