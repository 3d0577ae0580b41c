# The README's two commands: `make run` (main job) and `make test` (whole suite, real Asterisk included).
PY ?= python3
SITE ?= examples/lab-site.toml

.PHONY: setup setup-test run test test-unit lint lab-up lab-down

setup:
	./scripts/setup.sh

setup-test:
	./scripts/setup.sh --test

# Main job. Until the virtual PBX lands this is the lab Asterisk, the engine, and one scripted SIPp call.
run: setup-test
	$(PY) -m engine.cli lab up --site $(SITE)
	$(PY) -m sim.scripted_call --site $(SITE)

test: setup-test
	$(PY) -m ruff check .
	$(PY) -m pytest -q

test-unit:
	$(PY) -m pytest -q -m "not asterisk"

lint:
	$(PY) -m ruff check .

lab-up:
	$(PY) -m engine.cli lab up --site $(SITE)

lab-down:
	$(PY) -m engine.cli lab down --site $(SITE)
