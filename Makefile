# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
VENV    := .venv
PY      := $(VENV)/bin/python
PYTHON  ?= python3

.PHONY: demo test tools lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

# the demo lab is hosts/, services/ and flake.nix of this repository; the editor opens a
# copy of it in $(DEMO)/ (ignored) with a git history of its own, so that saving in the
# demo never commits into this repository; remove $(DEMO)/ to start the demo over
DEMO    := demo-lab
demo: $(VENV)/.installed
	$(PY) scripts/demo-lab $(DEMO)
	$(VENV)/bin/homelab --lab $(DEMO) validate
	$(VENV)/bin/homelab --lab $(DEMO) hosts
	$(VENV)/bin/homelab --lab $(DEMO) tui

# nix-instantiate (Debian's nix-bin) and sshd (openssh-server) for the real-parts tests
tools:
	@scripts/ensure-tools

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check homelab tests bench
	$(VENV)/bin/ruff format --check homelab tests bench
	$(VENV)/bin/mypy homelab
	$(VENV)/bin/lint-imports

test: $(VENV)/.installed-test tools lint
	$(VENV)/bin/pytest -q

bench: $(VENV)/.installed-test
	$(PY) bench/validate.py
	$(PY) bench/build.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
