# The README's two commands: `make run` (main job) and `make test` (whole suite, real Asterisk included).
# Everything runs in the project's own virtual environment, made by scripts/setup.sh from requirements.lock.
PY ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
SITE ?= examples/lab-site.toml
export PY VENV

.PHONY: setup setup-test run test test-unit screenshots lint lab-up lab-down lab-call fidelity lock

setup:
	./scripts/setup.sh

setup-test:
	./scripts/setup.sh --test

# Main job: the engine against the virtual PBX with simulated callers (no Asterisk, root or network), serving
# the web console on HTTP (users and passwords printed, and in $(WORKDIR)/demo-credentials.json).
HOURS ?= 1
SPEED ?= 30
HTTP ?= 127.0.0.1:8080
WORKDIR ?= demo-work
LINGER ?= 60
run: setup
	$(VPY) -m engine.cli demo --hours $(HOURS) --speed $(SPEED) --http $(HTTP) --workdir $(WORKDIR) \
	  --linger $(LINGER) --json demo-report.json

# One scripted SIPp call through the real lab Asterisk (root).
lab-call: setup-test
	$(VPY) -m engine.cli lab up --site $(SITE)
	$(VPY) -m sim.scripted_call --site $(SITE)

# Re-record the AMI and AGI transcripts of the canonical flows from the lab Asterisk, then score the virtual PBX.
fidelity: setup-test
	$(VPY) -m engine.cli lab up --site $(SITE)
	$(VPY) -m engine.cli sim fidelity --record --site $(SITE)
	$(VPY) -m engine.cli sim fidelity --site $(SITE)

# The real-Asterisk tests one at a time (they share the one lab, and mostly wait on calls in real time, leaving the
# CPU idle) while, beside them and niced so the lab's calls keep their timing, the tests without Asterisk run on
# one worker (a test file stays on one worker: a module's shared demo or replays start once); then, with nothing
# beside them, the chaos runs (their faults' timing is what they test) and the few marked `alone`, which compare
# real-time figures taken while they run. The SMS gateway's tests (marked `gateway`: a real Kannel, waited on in real
# time) run with the real-Asterisk ones, the shorter side. All runs always happen; the target fails if any failed. Each names its
# slowest tests (CI must stay under 30 minutes).
test: setup-test
	$(VPY) -m ruff check .
	log=$$(mktemp); \
	nice -n 10 $(VPY) -m pytest -q -p no:cacheprovider -m "not asterisk and not gateway and not alone" -n 1 --dist loadfile --durations=10 >$$log 2>&1 & u=$$!; \
	$(VPY) -m pytest -q -p no:cacheprovider -m "(asterisk or gateway) and not alone" --ignore=tests/asterisk/test_chaos.py --durations=15; b=$$?; \
	wait $$u; a=$$?; echo "---- the tests without Asterisk (run beside the real-Asterisk ones):"; cat $$log; rm -f $$log; \
	$(VPY) -m pytest -q tests/asterisk/test_chaos.py; c=$$?; \
	$(VPY) -m pytest -q -m "alone"; d=$$?; [ $$a = 0 ] && [ $$b = 0 ] && [ $$c = 0 ] && [ $$d = 0 ]

# The console's screenshots in docs/ (the README shows them), taken by the browser tests in Debian's Chromium.
screenshots: setup-test
	HOTLINE_SCREENSHOTS=1 $(VPY) -m pytest -q tests/test_wallboard_browser.py tests/test_team_browser.py \
	  tests/test_agent_browser.py tests/test_admin_browser.py tests/test_qa_browser.py tests/test_reports_browser.py tests/test_cases_browser.py

test-unit: setup-test
	$(VPY) -m pytest -q -m "not asterisk and not alone" -n 2 --dist loadfile; a=$$?; \
	$(VPY) -m pytest -q -m "alone and not asterisk"; b=$$?; [ $$a = 0 ] && [ $$b = 0 ]

lint: setup-test
	$(VPY) -m ruff check .

lab-up: setup-test
	$(VPY) -m engine.cli lab up --site $(SITE)

lab-down: setup
	$(VPY) -m engine.cli lab down --site $(SITE)

# Upgrade the pinned versions (needs the package index): every dependency to its newest allowed release.
# pip-tools lives in its own environment, so the project's holds only what the lock names.
lock:
	$(PY) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install -q pip-tools
	$(VENV)-lock/bin/python -m piptools compile -q --upgrade --extra test --all-build-deps --allow-unsafe \
	  --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host --annotation-style line \
	  -o requirements.lock pyproject.toml
