#!/usr/bin/env bash
# Rewrite the locks from pyproject.toml: `scripts/lock.sh` keeps the pins still allowed,
# `scripts/lock.sh --upgrade` takes the newest versions. See requirements/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/uv ] || bash scripts/setup.sh
compile() {  # output, extras...
  local out=$1; shift
  local extras=(); for e in "$@"; do extras+=(--extra "$e"); done
  .venv/bin/uv pip compile pyproject.toml requirements/build.in "${extras[@]}" --universal \
    --python-version 3.11 --generate-hashes --no-header --quiet "${UPGRADE[@]}" -o "$out"
}
UPGRADE=(); [ "${1:-}" = "--upgrade" ] && UPGRADE=(--upgrade)
compile requirements/test.txt test postgres
compile requirements/bench.txt test postgres bench
printf 'uv==%s\n' "$(grep -oP '^uv==\K[^ ]+' requirements/test.txt)" \
  | .venv/bin/uv pip compile - --generate-hashes --no-header --quiet -o requirements/bootstrap.txt
echo "lock: requirements/*.txt written" >&2
