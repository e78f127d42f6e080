#!/usr/bin/env bash
# Every test of the project, as CI runs it (.ci/run calls `make test`):
#   1. set up (venv, spaCy model, chromium for the console tests)
#   2. rasa data validate
#   3. rasa train (skipped by Rasa itself when config, domain and data are unchanged)
#   4. pytest: unit, database (SQLite + PostgreSQL), simulator and end-to-end tests
#   5. rasa test on the test stories, failing on any prediction error
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
export PYTHONPATH=$PWD RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
export PYTHONWARNINGS=ignore::DeprecationWarning,ignore::PendingDeprecationWarning
RASA=.venv/bin/rasa

step() { printf '\n== %s\n' "$*"; }

step "rasa data validate"
$RASA data validate --fail-on-warnings --quiet

step "rasa train"
$RASA train --fixed-model-name tsunagi --out models --quiet

step "pytest"
# Two workers (pytest-xdist), a test file per worker at a time: the suite waits on
# servers, browsers and databases as much as it computes, so two files overlap well on
# two cores; a file's module fixtures (the e2e stack) stay in one worker. Every test
# has its own database and ports. TSUNAGI_TEST_WORKERS=0 runs it in one process.
workers=${TSUNAGI_TEST_WORKERS:-2}
if [ "$workers" = 0 ]; then
  .venv/bin/python -m pytest "$@"
else
  .venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
fi

step "rasa test (test stories)"
rm -rf results
$RASA test core --model models/tsunagi.tar.gz --stories tests/stories \
  --fail-on-prediction-errors --out results --quiet
echo "rasa test: all test stories passed"
