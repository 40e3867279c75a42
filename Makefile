# Microcred: `make run` to try it, `make test` to check it. GNU make; Debian (or similar).
#
#   make run                 install into .venv, migrate the SQLite database, seed the demo, serve
#   make test                install what the suite needs (as root: Debian packages too), run it
#   make test DB=postgresql  the same on a throwaway PostgreSQL server
#   make test TEST_WORKERS=0 PYTEST_ARGS='-x tests/lti'   in one process, some tests only
#   make test-deps           install what the suite needs, run nothing
#   make test-cluster        the tests that start the scaled shape (make test leaves them out)
#   make cluster             run the scaled shape on this machine (HAProxy, 2 instances, 2 workers,
#                            PostgreSQL, Redis, S3, the development LMS) on ports CLUSTER_PORT=8400..8407
#   make cluster-stop        stop it (its environment and logs stay in .cluster/)
#   make validators          install the Open Badges validators into .validators (make test does)
#   make lint                ruff and mypy
#   make clean               remove .venv and build leftovers (never instance/, your data)
#   make reset-demo          delete the demo SQLite database (instance/microcred.sqlite*)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Stamps live inside .venv: a deleted or recreated virtualenv is reinstalled, and pip runs again
# only when pyproject.toml is newer than the stamp.
APP_STAMP := $(VENV)/.microcred-installed
TEST_STAMP := $(VENV)/.microcred-installed-test
CLUSTER_STAMP := $(VENV)/.microcred-installed-cluster

BROWSER_DIR := tests/browser
NODE_STAMP := $(BROWSER_DIR)/node_modules/.microcred-npm-ci

# The official Open Badges validators the tests run on what the tool issues (tests/validators):
# 1EdTech's openbadges (OB 2.0) in its own virtualenv, whose pins clash with the app's, and the
# DCC verifier-core (OB 3.0) from a committed lockfile. MICROCRED_VALIDATORS_DIR moves them.
VALIDATORS_DIR := $(or $(MICROCRED_VALIDATORS_DIR),.validators)
VALIDATORS_SRC := tests/validators
OB2_STAMP := $(VALIDATORS_DIR)/ob2/.microcred-installed
OB3_STAMP := $(VALIDATORS_DIR)/ob3js/node_modules/.microcred-npm-ci

# The suite's database: sqlite (default) or postgresql (the fixtures start their own server).
DB ?= $(or $(MICROCRED_TEST_DATABASE),sqlite)
# Parallel test processes (pytest-xdist): most of a test's time is spent waiting on its servers
# and its browser, so more processes than cores pays. TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 4
PYTEST_ARGS ?=
ifneq ($(filter test,$(MAKECMDGOALS)),)
ifeq ($(filter $(DB),sqlite postgresql),)
$(error DB must be sqlite or postgresql, not '$(DB)')
endif
endif

INSTANCE_PATH := $(or $(MICROCRED_INSTANCE_PATH),instance)

# The scaled shape's first loopback port; it uses this one and the seven after it.
CLUSTER_PORT ?= 8400

.PHONY: help run test test-deps test-cluster lint clean reset-demo system-deps browser-deps \
	validators cluster cluster-stop

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(APP_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $@ $(APP_STAMP)

$(CLUSTER_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[cluster]'
	touch $@ $(APP_STAMP)

run: $(APP_STAMP)
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app demo seed
	MICROCRED_LOG_FORMAT=$${MICROCRED_LOG_FORMAT:-text} exec $(BIN)/flask --app app serve

system-deps:
	scripts/system-deps.sh

# axe-core for the browser tests' accessibility checks, once the browser tests exist.
ifneq ($(wildcard $(BROWSER_DIR)/package.json),)
browser-deps: $(NODE_STAMP)
$(NODE_STAMP): $(BROWSER_DIR)/package.json $(wildcard $(BROWSER_DIR)/package-lock.json) | system-deps
	npm ci --prefix $(BROWSER_DIR) --no-audit --no-fund
	touch $@
else
browser-deps:
endif

validators: $(OB2_STAMP) $(OB3_STAMP)

$(VALIDATORS_DIR)/ob2/bin/python:
	$(PYTHON) -m venv $(VALIDATORS_DIR)/ob2

# Two steps: fixes.txt overrides pins of openbadges that do not import on Python 3.11 (pip then
# reports the conflict as an ERROR but succeeds; expected).
$(OB2_STAMP): $(VALIDATORS_SRC)/ob2/requirements.txt $(VALIDATORS_SRC)/ob2/fixes.txt \
		| $(VALIDATORS_DIR)/ob2/bin/python
	$(VALIDATORS_DIR)/ob2/bin/python -m pip install -q -r $(VALIDATORS_SRC)/ob2/requirements.txt
	$(VALIDATORS_DIR)/ob2/bin/python -m pip install -q -U -r $(VALIDATORS_SRC)/ob2/fixes.txt
	touch $@

$(OB3_STAMP): $(VALIDATORS_SRC)/ob3js/package.json $(VALIDATORS_SRC)/ob3js/package-lock.json \
		| system-deps
	mkdir -p $(VALIDATORS_DIR)/ob3js
	cp $^ $(VALIDATORS_DIR)/ob3js/
	npm ci --prefix $(VALIDATORS_DIR)/ob3js --no-audit --no-fund
	touch $@

# MICROCRED_REQUIRE_VALIDATORS: a missing validator install fails the tests that need it, where
# a bare pytest run skips them.
test-deps: system-deps $(TEST_STAMP) browser-deps validators

test: test-deps
	MICROCRED_TEST_DATABASE=$(DB) MICROCRED_VALIDATORS_DIR=$(abspath $(VALIDATORS_DIR)) \
		MICROCRED_REQUIRE_VALIDATORS=1 $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal \
		-m 'not cluster' $(PYTEST_ARGS)

# The scaled shape as `make cluster` starts it, on its own ports (PostgreSQL whatever DB says).
test-cluster: system-deps $(TEST_STAMP)
	$(BIN)/pytest -p no:xdist -m cluster $(PYTEST_ARGS)

cluster: $(CLUSTER_STAMP)
	scripts/system-deps.sh cluster
	$(BIN)/python scripts/cluster.py start --port $(CLUSTER_PORT)

cluster-stop:
	$(BIN)/python scripts/cluster.py stop

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(APP_STAMP) $(TEST_STAMP) .validators build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Deletes only the demo database (and its WAL files); the secret key and other files stay.
reset-demo:
	rm -f $(INSTANCE_PATH)/microcred.sqlite $(INSTANCE_PATH)/microcred.sqlite-*
