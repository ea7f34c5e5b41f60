# `make run` and `make test` set everything up on a machine with only Python and pip.
# torch is pinned first: that build is the CPU one; pyproject.toml states the range.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH_PIN := torch==2.13.0
SPEC ?= specs/mlp.nqa
# the npm packages the editor grammar's test tokenises with; without npm that test is skipped
GRAMMAR_TEST := editors/vscode/test
NODE_STAMP := $(GRAMMAR_TEST)/node_modules/.installed

.PHONY: run test lint setup clean node-packages

run: $(STAMP)
	$(PY) -m runtime $(SPEC)

test: lint node-packages
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

node-packages:
	@command -v npm >/dev/null 2>&1 && $(MAKE) -s --no-print-directory $(NODE_STAMP) || true

$(NODE_STAMP): $(GRAMMAR_TEST)/package.json $(GRAMMAR_TEST)/package-lock.json
	cd $(GRAMMAR_TEST) && npm ci --no-audit --no-fund --silent \
	  || echo "npm could not install vscode-textmate and vscode-oniguruma: the grammar's test is skipped"
	test ! -d $(GRAMMAR_TEST)/node_modules || touch $@

clean:
	rm -rf $(VENV) build *.egg-info $(GRAMMAR_TEST)/node_modules
