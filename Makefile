# Chakra Routes — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STRIPE_EMULATOR_PORT ?= 8420
MESSAGING_FAKE_PORT ?= 8430
export FLASK_APP := tourism
#: Test workers: two per core. A test waits on its database, its servers and its subprocesses
#: about as long as it computes, so a second worker per core keeps the cores busy (measured:
#: 20% less wall time than one per core on 2 cores).
TEST_WORKERS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) * 2 )))

.PHONY: lock outdated setup translations db run serve worker scheduler test test-browser lint extract-messages update-messages stripe-emulator run-with-stripe messaging-fake

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

#: The lock files: every dependency, direct and transitive, pinned with its hashes
#: (docs/decisions.md, "Installs from a lock file"). Installs never resolve versions.
LOCK_BUILD := requirements/build.txt
LOCK_APP := requirements/app.txt
LOCK_DEV := requirements/dev.txt
UV_COMPILE := --quiet --universal --python-version 3.11 --generate-hashes

$(VENV)/.installed: $(LOCK_BUILD) $(LOCK_DEV) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK_BUILD)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK_DEV)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

## setup: virtualenv, dependencies and compiled translations
setup: $(VENV)/.installed translations

## translations: compile the message catalogs (see README, "Translations")
translations: $(VENV)/.installed
	$(BIN)/flask translate compile

## db: apply migrations and load the demo data (SQLite under instance/ unless DATABASE_URL is set)
db: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(BIN)/flask generate-departures

## run: set everything up and serve on http://127.0.0.1:$(PORT)
run: db
	RESPONSE_CACHE_IN_PROCESS=true $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

## serve: the same behind gunicorn (production-like; see gunicorn.conf.py)
serve: db
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## worker, scheduler: the job queue's processes, each in its own terminal; `make run` does
## not need them (a request's emails run in its process), periodic jobs do (docs/JOBS.md)
worker: db
	$(BIN)/flask worker

scheduler: db
	$(BIN)/flask scheduler

## test: set up and run the whole suite (PostgreSQL too when TEST_DATABASE_URL is set)
test: setup
	$(BIN)/pytest -q -m "not browser" -n $(TEST_WORKERS)

## test-browser: the end-to-end journeys in headless Chromium (needs /usr/bin/chromium); one
##               live server and browser per worker, so journeys run side by side
test-browser: setup
	$(BIN)/pytest -q -m browser -p no:cacheprovider -n auto

## stripe-emulator: a local Stripe (stock localstripe) on http://127.0.0.1:$(STRIPE_EMULATOR_PORT)
stripe-emulator: setup
	$(BIN)/python -W ignore::DeprecationWarning -c "from aiohttp import web; from localstripe.server import app; web.run_app(app, host='127.0.0.1', port=$(STRIPE_EMULATOR_PORT))"

## run-with-stripe: make run, paying by card through the emulator (start it first)
run-with-stripe: export STRIPE_SECRET_KEY := sk_test_local
run-with-stripe: export STRIPE_PUBLISHABLE_KEY := pk_test_local
run-with-stripe: export STRIPE_WEBHOOK_SECRET := whsec_local
run-with-stripe: export STRIPE_API_BASE := http://127.0.0.1:$(STRIPE_EMULATOR_PORT)
run-with-stripe: export STRIPE_JS_URL := http://127.0.0.1:$(STRIPE_EMULATOR_PORT)/js.stripe.com/v3/
run-with-stripe: run

## messaging-fake: local WhatsApp and SMS providers on http://127.0.0.1:$(MESSAGING_FAKE_PORT) (prints the settings)
messaging-fake: setup
	$(BIN)/python -m tests.messaging_fake --port $(MESSAGING_FAKE_PORT)

lint: setup
	$(BIN)/ruff check .

## extract-messages: collect the translatable strings into tourism/translations/messages.pot
extract-messages: setup
	$(BIN)/flask translate extract

## update-messages: extract, then merge the strings into every catalog (English mirrors them)
update-messages: setup
	$(BIN)/flask translate update

## lock: re-resolve the lock files from pyproject.toml, keeping current pins where they still fit
##       (UPGRADE=1: move every package to the newest version pyproject.toml allows)
lock: $(VENV)/.installed
	$(BIN)/uv pip compile $(UV_COMPILE) $(if $(UPGRADE),--upgrade) requirements/build.in -o $(LOCK_BUILD)
	$(BIN)/uv pip compile $(UV_COMPILE) $(if $(UPGRADE),--upgrade) pyproject.toml -o $(LOCK_APP)
	$(BIN)/uv pip compile $(UV_COMPILE) $(if $(UPGRADE),--upgrade) pyproject.toml --extra dev \
		-c $(LOCK_APP) -o $(LOCK_DEV)

## outdated: what `make lock UPGRADE=1` would change (nothing is written)
outdated: $(VENV)/.installed
	@rm -rf $(VENV)/outdated && mkdir -p $(VENV)/outdated
	@$(BIN)/uv pip compile $(UV_COMPILE) --upgrade requirements/build.in -o $(VENV)/outdated/build.txt
	@$(BIN)/uv pip compile $(UV_COMPILE) --upgrade pyproject.toml -o $(VENV)/outdated/app.txt
	@$(BIN)/uv pip compile $(UV_COMPILE) --upgrade pyproject.toml --extra dev \
		-c $(VENV)/outdated/app.txt -o $(VENV)/outdated/dev.txt
	@$(BIN)/python requirements/lockfile.py $(LOCK_BUILD) $(VENV)/outdated/build.txt \
		$(LOCK_DEV) $(VENV)/outdated/dev.txt
