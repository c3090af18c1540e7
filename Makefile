# Stemma: `make run` (the demo on embedded defaults) and `make test` (the suite on PostgreSQL + Redis).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# libchromaprint: fingerprints; fpcalc: the benchmarks' baseline; chromium: the browser tests.
APT_PACKAGES := libchromaprint1 libchromaprint-tools chromium
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install system-deps services lint typecheck pytest demo-reset bench clean

# The demo signs content credentials with a throwaway local certificate authority.
DEMO_ENV := DEBUG=1 STEMMA_C2PA_SIGNER_CERT=$(CURDIR)/var/dev-ca/signer.pem \
	STEMMA_C2PA_SIGNER_KEY=$(CURDIR)/var/dev-ca/signer.key \
	STEMMA_C2PA_TRUST_ANCHORS=$(CURDIR)/var/dev-ca/ca.pem

run: install
	@mkdir -p var
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py make_dev_ca var/dev-ca > /dev/null
	$(DEMO_ENV) $(BIN)/python manage.py load_demo
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

test: install services lint typecheck pytest

install: system-deps $(VENV)/.installed

system-deps:
	@if ! ldconfig -p | grep -q 'libchromaprint.so.1' || ! command -v fpcalc >/dev/null \
		|| ! test -x /usr/bin/chromium; then \
		echo "installing $(APT_PACKAGES) with apt-get"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	@touch $@

# PostgreSQL and Redis for the tests: started if they are not running.
services:
	@if ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		echo "starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || \
		{ echo "PostgreSQL is not running on 127.0.0.1:5432 and could not be started (is it installed?)"; exit 1; }; \
	fi
	@if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then \
		echo "starting Redis"; \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || \
		{ echo "Redis is not running on 127.0.0.1:6379 and could not be started (is redis-server installed?)"; exit 1; }; \
		sleep 1; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

pytest: install services
	$(BIN)/pytest $(PYTEST_ARGS)

demo-reset:
	rm -rf var/stemma.sqlite3 var/media

bench: install
	$(BIN)/pip install -q -r requirements-bench.txt
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
