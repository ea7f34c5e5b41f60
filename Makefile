# `make run` and `make test` set everything up on a machine with only Python and pip.
# torch is pinned first: that build is the CPU one; pyproject.toml states the range.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH_PIN := torch==2.13.0
SPEC ?= specs/mlp.nqa

.PHONY: run test lint setup clean

run: $(STAMP)
	$(PY) -m runtime $(SPEC)

test: lint
	$(PY) -m pytest -q

# the files checked and the rules are set in pyproject.toml
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info
