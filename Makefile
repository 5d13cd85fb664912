# shipyard.ecs: every target sets itself up; nothing depends on what was installed by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
COLLECTION_LINK := .collections/ansible_collections/shipyard/ecs
SANITY_BUILD ?= build/sanity
SANITY_ROOT := $(SANITY_BUILD)/ansible_collections/shipyard/ecs
SANITY_HOME := $(CURDIR)/.cache/sanity-home
SANITY_ARGS ?=
LOCAL_AWS := $(BIN)/python tests/emulator/launcher.py
PYTEST_ARGS ?=

export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_LOCAL_TEMP := $(CURDIR)/.cache/ansible-tmp
export ANSIBLE_HOME := $(CURDIR)/.cache/ansible-home

.PHONY: help setup system-deps demo test test-pytest test-molecule test-sanity test-lint unit integration molecule sanity lint bench clean local-aws local-aws-stop release

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The conformance tests' third-party clients (tests/integration/conformance) run from a venv of
# their own: the AWS CLI v1 pins a botocore other than requirements-dev.txt's.
CLIENTS_VENV := .cache/clients-venv
CLIENTS_REQUIREMENTS := tests/integration/conformance/requirements-clients.txt
$(CLIENTS_VENV)/.installed: $(CLIENTS_REQUIREMENTS)
	@test -x $(CLIENTS_VENV)/bin/python || $(PYTHON) -m venv $(CLIENTS_VENV)
	$(CLIENTS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(CLIENTS_REQUIREMENTS)
	@touch $@

$(COLLECTION_LINK):
	@mkdir -p $(dir $@)
	@ln -sfn ../../.. $@

# Debian packages the tests use: a real OCI registry (ecr_image_push's transport tests),
# skopeo (the push benchmark's reference), shellcheck (ansible-test sanity's shell check) and
# chromium (renders the release report headless).
# Installed when missing and we may (root or sudo).
SYSTEM_TOOLS := docker-registry skopeo shellcheck chromium

system-deps:
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else \
	    echo "missing:$$missing; install them with your package manager" >&2; exit 1; fi; \
	  echo "installing:$$missing"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

setup: $(STAMP) $(CLIENTS_VENV)/.installed $(COLLECTION_LINK) system-deps ## create or refresh .venv and the collection link
	@mkdir -p .cache/ansible-tmp .cache/ansible-home

local-aws: setup ## start the local emulated AWS in the background (prints the endpoint)
	@$(BIN)/python tools/build_demo_images.py
	@$(LOCAL_AWS) start

local-aws-stop: ## stop the local emulated AWS (by PID)
	@test -x $(BIN)/python && $(LOCAL_AWS) stop || true

demo: setup ## start local AWS, deploy the reference app, show it, stop local AWS
	@bash tools/demo.sh

unit: setup ## unit tests (module_utils against moto in-process and scripted responses)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: setup ## modules, playbooks and emulator fidelity against the local emulated AWS
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

molecule: setup ## Molecule scenarios against the local emulated AWS
	@bash tools/molecule.sh

sanity: setup ## ansible-test sanity on a copy of the checkout under ansible_collections/
	@rm -rf $(SANITY_BUILD) && mkdir -p $(SANITY_ROOT) $(SANITY_HOME)/.ansible/test/cache
	@git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C $(SANITY_ROOT)
	@site=$$($(BIN)/python -c 'import os, ansible_collections as a; print([p for p in a.__path__ if os.path.isdir(p + "/amazon")][0])'); \
	  for ns in amazon community; do ln -sfn $$site/$$ns $(SANITY_BUILD)/ansible_collections/$$ns; done
	@for v in 24_2 25_0 25_1 25_3; do cp tools/get_pip_shim.py $(SANITY_HOME)/.ansible/test/cache/get_pip_$$v.py; done
	cd $(SANITY_ROOT) && git init -q && git add -A && \
	  HOME=$(SANITY_HOME) $(BIN)/ansible-test sanity --python 3.11 --color no $(SANITY_ARGS)

# --offline: the collections come from the venv and the .collections link; without it
# ansible-lint runs ansible-galaxy on collections/requirements.yml, which waits on Galaxy's
# server (unreachable from here) for most of the lint's wall time.
lint: setup ## ansible-lint (production profile)
	$(BIN)/ansible-lint --profile production --offline

# make test runs its stages side by side (tools/stage.sh): they share nothing (pytest and
# Molecule start their own emulators, sanity works on a copy), and no stage alone keeps two
# cores busy. Each stage logs to build/test-logs/, prints its whole log when it fails, and every
# stage's exit status counts.
# pytest: the slow tests first (tests/integration/conftest.py), handed out one at a time so
# that they spread over the workers. TEST_STAGES="pytest lint" runs a subset.
TEST_STAGES ?= pytest molecule sanity lint
# Three workers on two cores: a worker waits on its emulator's virtual clock (deploys, bakes, drains)
# about a third of the time, and a third worker fills those waits. Measured on this 2-core machine,
# whole `make test`: pytest 1029 s wall / 1456 s CPU with 3 workers, 1372 s / 1678 s with 2.
PYTEST_WORKERS ?= 3

test: setup ## everything that must pass, side by side: unit + integration, Molecule, sanity, lint
	@rm -rf build/test-logs
	@$(MAKE) --no-print-directory -k -j$(words $(TEST_STAGES)) $(addprefix test-,$(TEST_STAGES)); status=$$?; \
	  bash tools/stage.sh --summary; exit $$status

test-pytest:
	@STAGE_TAIL=20 bash tools/stage.sh pytest $(BIN)/pytest -n $(PYTEST_WORKERS) --maxschedchunk 1 --durations=15 $(PYTEST_ARGS)

test-molecule:
	@bash tools/stage.sh molecule bash tools/molecule.sh

test-sanity:
	@bash tools/stage.sh sanity $(MAKE) --no-print-directory sanity

test-lint:
	@bash tools/stage.sh lint $(MAKE) --no-print-directory lint

bench: setup ## benchmarks: figures, not pass/fail
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

release: setup ## VERSION=x.y.z: bump galaxy.yml, release the changelog, build build/shipyard-ecs-x.y.z.tar.gz
	@VERSION="$(VERSION)" bash tools/release.sh

clean: local-aws-stop ## remove the venv, caches and build output
	rm -rf $(VENV) .collections .cache build .pytest_cache .local-aws
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
