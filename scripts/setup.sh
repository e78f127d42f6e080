#!/usr/bin/env bash
# Creates .venv and installs the pinned stack. Idempotent: a stamp holding the hash
# of the lock files makes a second run take a second when nothing changed.
#
# Rasa 3.6 declares Python <3.11 but runs on 3.11 (design.md, "Verified on these
# machines"): rasa and rasa-sdk go in with --no-deps --ignore-requires-python, then
# every dependency from a fully pinned lock, also with --no-deps, so the result is
# the same environment on every machine.
#
#   scripts/setup.sh            python environment + spaCy model + database migrations
#   scripts/setup.sh --browser  also Debian's chromium (console tests)
#   scripts/setup.sh --fonts    also Japanese and emoji fonts (make screenshots)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
VENV=$ROOT/.venv
STAMP=$VENV/.tsunagi-lock-hash
want_browser=0
want_fonts=0
for arg in "$@"; do
  [ "$arg" = "--browser" ] && want_browser=1
  [ "$arg" = "--fonts" ] && want_fonts=1
done

quiet_pip() { grep -v -E "^WARNING: Location '.*' is ignored" || true; }

lock_hash=$(cat requirements/rasa-runtime.lock requirements/project.lock | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$lock_hash" ]; then
  echo "setup: installing Rasa 3.6.21, rasa-sdk 3.6.2 and the pinned dependencies (first time: a few minutes)"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --ignore-requires-python \
      rasa==3.6.21 rasa-sdk==3.6.2 2>&1 | quiet_pip
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps \
      -r requirements/rasa-runtime.lock -r requirements/project.lock 2>&1 | quiet_pip
  echo "$lock_hash" > "$STAMP"
else
  echo "setup: python environment up to date"
fi

if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null; then
  echo "setup: installing Debian's chromium for the console tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
fi

# Japanese and emoji glyphs for the screenshots (`make screenshots`); the tests do not need them.
if [ "$want_fonts" = 1 ] && ! fc-list :lang=ja 2>/dev/null | grep -q .; then
  echo "setup: installing Noto CJK and emoji fonts for the screenshots"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq fonts-noto-cjk fonts-noto-color-emoji >/dev/null
fi

# The spaCy part of the NLU pipeline: built here, never downloaded.
"$VENV/bin/python" -m nlp.build_spacy_model --if-missing
