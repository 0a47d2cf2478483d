# Every target builds its own virtual environment from pyproject.toml, so a
# fresh machine needs nothing but Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-quick test-postgres postgresql lint typecheck unit bench bench-memory-postgres soak clean chromium caddy nginx systemd-analyze deploy-tools safety-model

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The web chat and the console on 127.0.0.1 with demo logins printed (Ctrl-C stops).
# The terminal chat: `.venv/bin/lk3 chat --data var`.
PORT ?= 8080
demo: $(STAMP)
	$(PY) -m bot demo --data var/demo --port $(PORT) --config $(or $(wildcard config.toml),config.example.toml)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The console's browser tests drive Debian's Chromium (never `playwright install`):
# installed here when missing and we are root; otherwise those tests are skipped.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }; \
	fi

# The deploy/ tests start Debian's Caddy and nginx in front of `lk3 run` and check the
# systemd units with systemd-analyze: each installed here when missing and we are root
# (otherwise those tests are skipped and say why).
caddy:
	@if ! command -v caddy >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y caddy >/dev/null || { apt-get update >/dev/null && apt-get install -y caddy >/dev/null; }; \
	fi

nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y nginx >/dev/null || { apt-get update >/dev/null && apt-get install -y nginx >/dev/null; }; \
	fi

systemd-analyze:
	@if ! command -v systemd-analyze >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y systemd >/dev/null || { apt-get update >/dev/null && apt-get install -y systemd >/dev/null; }; \
	fi

deploy-tools: caddy nginx systemd-analyze

# The PostgreSQL backend's tests start a throwaway server from Debian's package
# (initdb and pg_ctl in a temporary folder, as the `postgres` user when we are root):
# installed here when missing and we are root.
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y postgresql >/dev/null || { apt-get update >/dev/null && apt-get install -y postgresql >/dev/null; }; \
	fi

# The whole suite against PostgreSQL: every test that opens a store (through
# tests/support/stores.py); tests/conftest.py's STORE_FREE deselects the pure ones and
# docs/postgresql.md lists what is SQLite-only and skipped. PG_MARKS narrows it by
# marker, PG_TESTS by folder (`make test` runs tests/storage there, see below).
PG_TESTS ?= tests
PG_MARKS ?=
test-postgres: $(STAMP) chromium deploy-tools postgresql
	@$(PY) -m pytest -q -p no:cacheprovider -n $(JOBS) --dist $(DIST) --db postgres -rs $(if $(PG_MARKS),-m "$(PG_MARKS)") $(PG_TESTS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

# pytest exits 5 when it collects no test: say so instead of failing obscurely.
# JOBS test processes (pytest-xdist) share the suite: much of its time is waiting on
# subprocesses, fake servers and Chromium (on two cores, two workers: 8.6 minutes
# instead of 13). DIST: a worker that runs out of tests takes pending ones from the
# other (`worksteal`), where `load` left a few queued behind a long e2e test while the
# other worker sat idle at the end.
JOBS ?= 2
DIST ?= worksteal
unit: $(STAMP) chromium deploy-tools postgresql
	@$(PY) -m pytest -q -n $(JOBS) --dist $(DIST); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

# Both backends (issue 22): the whole suite on SQLite (the embedded default), then the
# storage suite on a throwaway PostgreSQL, so neither can drift from the other, well
# under 15 minutes. `make test-postgres` runs the whole suite on PostgreSQL too: every
# store-opening test, the e2e, kill and browser ones (without the browser ones 6 min
# 43 s from a clean clone on two cores; together with this, CI would pass 18 minutes).
CI_PG_TESTS ?= tests/storage
test: lint typecheck unit
	@$(MAKE) --no-print-directory test-postgres PG_TESTS="$(CI_PG_TESTS)"

# While working: flows, safety, storage and the in-process bot and console tests
# (about three minutes), without the e2e, kill and browser tests that `make test` runs.
test-quick: $(STAMP)
	$(VENV)/bin/ruff check .
	@$(PY) -m pytest -q -n $(JOBS) --dist $(DIST) -m "not e2e and not kill and not browser"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

# The crisis check's learned layer, retrained from bot/safety/corpus/ (train and dev) after
# a change to the corpus, the lexicon or the rules; a test fails until it is current.
safety-model: $(STAMP)
	$(PY) -m bot.safety train --out bot/safety/model.json
	$(PY) -m bot.safety eval --split test --no-misses

bench: $(STAMP)
	@$(PY) -m bench

# The bot's memory on PostgreSQL at 10,000 and 100,000 contacts (about a quarter of an
# hour; `make bench` reads PostgreSQL at 10,000 only).
bench-memory-postgres: $(STAMP) postgresql
	@$(PY) -m bench.pgmemory

# The fault run at length (about 10 minutes; not in CI): 150 SIGKILL cycles through
# Telegram and through WhatsApp webhooks, then the phases, three episodes each: a full
# disk (`lk3 run` on a small tmpfs filled while families write; needs root to mount,
# else skipped), a second start refused, a Telegram outage (5xx for 20 s), a deleted
# write-ahead log refused then put back; and the descriptors after upstream faults.
# Two processes on one PostgreSQL (test_shared_kill.py): one SIGKILLed under load
# (Telegram, WhatsApp; the survivor's time to answer), and the leader dying while an
# urgent case waits for its alert (the new leader's time to alert it, once).
# Each prints: messages, replies, lost, sent twice, fallback replies, time to resume.
soak: $(STAMP)
	LK3_SOAK_CYCLES=150 $(PY) -m pytest -q -s -p no:cacheprovider tests/bot/core/test_faults_kill.py tests/bot/core/test_shared_kill.py tests/bot/core/test_faults_sqlite.py tests/bot/core/test_faults_fulldisk.py tests/bot/core/test_faults_phases.py tests/bot/core/test_faults_fds.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
