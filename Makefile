# The two commands of the README: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
export FAXCORE_TEST_PG_URL ?= postgresql://faxcore:faxcore@127.0.0.1:5432/faxcore_test
# Tests run in TEST_WORKERS pytest-xdist workers; worker N runs its own lab on
# slot FAXCORE_TEST_LAB_SLOT + N (its own chroot copy and ports). Another
# checkout on the same host runs with a first slot past this one's.
TEST_WORKERS ?= 2
export FAXCORE_TEST_LAB_SLOT ?= 0

.PHONY: setup demo test bench lint

setup:
	bash deploy/setup.sh

demo: setup
	bash deploy/demo.sh

# Lint and types first: a run that passes the tests but not them is not green.
test: setup
	$(VENV)/bin/ruff check faxcore tests
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -n $(TEST_WORKERS) tests

bench: setup
	$(VENV)/bin/faxcore bench fax
	$(VENV)/bin/faxcore bench documents

lint: setup
	$(VENV)/bin/ruff check faxcore tests
	$(VENV)/bin/mypy
