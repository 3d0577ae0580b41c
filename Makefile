# The README's two commands: `make run` (main job) and `make test` (whole suite, real Asterisk included).
PY ?= python3
SITE ?= examples/lab-site.toml

.PHONY: setup setup-test run test test-unit lint lab-up lab-down lab-call fidelity

setup:
	./scripts/setup.sh

setup-test:
	./scripts/setup.sh --test

# Main job: the engine against the virtual PBX with simulated callers (no Asterisk, root or network).
HOURS ?= 1
SPEED ?= 60
run: setup
	$(PY) -m engine.cli demo --hours $(HOURS) --speed $(SPEED) --json demo-report.json

# One scripted SIPp call through the real lab Asterisk (root).
lab-call: setup-test
	$(PY) -m engine.cli lab up --site $(SITE)
	$(PY) -m sim.scripted_call --site $(SITE)

# Re-record the AMI and AGI transcripts of the canonical flows from the lab Asterisk, then score the virtual PBX.
fidelity: setup-test
	$(PY) -m engine.cli lab up --site $(SITE)
	$(PY) -m engine.cli sim fidelity --record
	$(PY) -m engine.cli sim fidelity

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
