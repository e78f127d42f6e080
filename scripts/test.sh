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

# The test stories need only the model: they run beside pytest (their output is
# printed after it), which saves their minute or two of wall time.
step "rasa test (test stories), in the background"
rm -rf results
stories_log=$(mktemp)
$RASA test core --model models/tsunagi.tar.gz --stories tests/stories \
  --fail-on-prediction-errors --out results --quiet >"$stories_log" 2>&1 &
stories=$!

step "pytest"
# Two workers (pytest-xdist), a test file per worker at a time: the suite waits on
# servers, browsers and databases as much as it computes, so two files overlap well on
# two cores; a file's module fixtures (the e2e stack) stay in one worker. Every test
# has its own database and ports. TSUNAGI_TEST_WORKERS=0 runs it in one process.
workers=${TSUNAGI_TEST_WORKERS:-2}
status=0
if [ "$workers" = 0 ]; then
  .venv/bin/python -m pytest --durations=20 "$@" || status=$?
else
  .venv/bin/python -m pytest -n "$workers" --dist loadfile --durations=20 "$@" || status=$?
fi

step "rasa test (test stories)"
story_status=0
wait "$stories" || story_status=$?
cat "$stories_log"
rm -f "$stories_log"
if [ "$story_status" != 0 ]; then
  echo "rasa test: the test stories FAILED (exit $story_status)" >&2
  exit "$story_status"
fi
echo "rasa test: all test stories passed"
exit "$status"
