# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
# caldav depends on niquests, which brings urllib3-future: its .pth file shadows the real urllib3
# at every interpreter start, and requests-based tools (schemathesis's ASGI client) break. We
# drive caldav through httpx and never import niquests, so the checkout's venv goes without both.
UNSHADOW = $(BIN)/pip uninstall -q -y niquests urllib3-future 2>/dev/null; \
	$(BIN)/pip install -q --force-reinstall --no-deps "urllib3>=2"

.PHONY: run test install dev lint bench wrk chromium redis-server clean messages messages-update messages-compile pot

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	$(UNSHADOW)
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev,bench]"
	$(UNSHADOW)
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

## run: install, migrate, seed the demo host and serve on http://127.0.0.1:8000 (SQLite in var/)
run: install
	$(BIN)/booking migrate
	DEMO=$${DEMO:-1} $(BIN)/booking serve

## Debian's Chromium for the browser tests (Playwright cannot download its own here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

## redis-server for the fault tests, which start (and stop) a Redis of their own.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server >/dev/null; }

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app

## The PostgreSQL and Redis tests run against the local services when they answer (and skip when
## not); set TEST_DATABASE_URL / TEST_REDIS_URL to point them elsewhere.
answers = $(shell $(PYTHON) -c "import socket; socket.create_connection(('127.0.0.1', $(1)), 1)" \
	2>/dev/null && echo yes)
TEST_DATABASE_URL ?= $(if $(call answers,5432),postgresql+asyncpg://postgres@127.0.0.1:5432/test)
TEST_REDIS_URL ?= $(if $(call answers,6379),redis://127.0.0.1:6379/0)

## test: install what tests need (dev extras, Chromium, axe-core) and run lint, types and the suite
test: dev chromium redis-server tests/browser/vendor/axe.min.js
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app
	TEST_DATABASE_URL="$(TEST_DATABASE_URL)" TEST_REDIS_URL="$(TEST_REDIS_URL)" \
		$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

## Translations (Babel): `make messages` after marking or changing strings: extracts them into
## app/locales/messages.pot, merges that into every language's messages.po (new strings arrive
## untranslated: translate them there), then compiles the .mo files the server reads.
## tests/unit/test_catalogs.py fails on a stale .pot, an untranslated string or a stale .mo.
PYBABEL ?= $(BIN)/pybabel
LOCALES := app/locales
POT     ?= $(LOCALES)/messages.pot
LANGS   := de es fr it nl pt pl ja ar

pot:
	$(PYBABEL) -q extract -F babel.cfg -k lazy_gettext -k pgettext:1c,2 -c "Translators:" \
		--add-location=file --sort-by-file --no-wrap --project=booking-widget \
		--copyright-holder="booking-widget contributors" --msgid-bugs-address="" -o $(POT) .

messages-update: pot
	for lang in $(LANGS); do \
		test -f $(LOCALES)/$$lang/LC_MESSAGES/messages.po || \
			$(PYBABEL) -q init -i $(POT) -d $(LOCALES) -l $$lang --no-wrap; \
	done
	$(PYBABEL) -q update -i $(POT) -d $(LOCALES) --no-wrap --no-fuzzy-matching --ignore-obsolete

messages-compile:
	$(PYBABEL) -q compile -d $(LOCALES) --statistics

messages: messages-update messages-compile

## axe-core comes from the npm registry (it is injected into pages by the accessibility test).
tests/browser/vendor/axe.min.js:
	mkdir -p tests/browser/vendor
	cd tests/browser/vendor && npm pack --silent axe-core@4.10.2 >/dev/null && \
		tar -xzf axe-core-4.10.2.tgz package/axe.min.js && mv package/axe.min.js axe.min.js && \
		rm -rf package axe-core-4.10.2.tgz

## bench: load-test the hot paths on SQLite and PostgreSQL, and time the first visible slot in
## Chromium (embed on another origin, cold cache); writes bench/results.md
## The load tool is wrk, from Debian (a C load generator: a Python one would be the bottleneck).
bench: dev wrk chromium
	$(BIN)/python -m bench.run

wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk >/dev/null; }

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
