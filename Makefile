# tsunagi: `make demo` runs the whole system locally; `make test` runs every test.
.DEFAULT_GOAL := help
PY := .venv/bin/python

.PHONY: help setup demo test train validate bench screenshots

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

setup: ## create .venv and install the pinned stack (idempotent)
	@bash scripts/setup.sh

demo: setup ## run Rasa, actions, desk and the Cloud API simulator on SQLite
	@$(PY) -m launcher demo

test: ## run every test: validate, train, pytest (unit, DB, e2e), rasa test stories
	@bash scripts/test.sh

train: setup ## train the model (skipped by Rasa when nothing changed)
	@.venv/bin/rasa train --fixed-model-name tsunagi --out models

validate: setup ## check domain, data and stories
	@.venv/bin/rasa data validate --fail-on-warnings

screenshots: ## drive the console in chromium and save docs/screenshots/console-*.png
	@bash scripts/setup.sh --browser --fonts
	@fc-list :lang=ja | grep -q . || echo "make screenshots: no Japanese font (apt-get install fonts-noto-cjk fonts-noto-color-emoji): the console-ja-*.png would show boxes" >&2
	@TSUNAGI_SCREENSHOTS=1 PYTHONPATH=. RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 \
	  $(PY) -m pytest -q tests/console/test_browser.py tests/console/test_browser_whatsapp.py tests/console/test_browser_lists.py tests/console/test_browser_reports.py tests/console/test_browser_trainer.py tests/console/test_browser_i18n.py tests/console/test_browser_models.py \
	  tests/console/test_browser_articles.py tests/console/test_browser_hours.py tests/console/test_browser_edges.py

bench: setup ## run the benchmarks under bench/
	@for b in bench/bench_*.py; do echo "== $$b"; PYTHONPATH=. $(PY) $$b; done

.PHONY: quality
quality: setup ## train, score NLU on the held-out tests/nlu/ set, run the test stories
	@PYTHONPATH=. RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 PYTHONWARNINGS=ignore $(PY) -m nlp.quality
