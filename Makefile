# The two Quickstart commands: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test lint bench install lock docs clean

# Installs come from the lock files in requirements/, every file checked against its hash; the
# ranges in pyproject.toml are for people installing paperroute as a library.
$(VENV)/.installed: requirements/demo.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r requirements/demo.txt
	$(PIP) --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: requirements/dev.txt $(VENV)/.installed
	$(PIP) --require-hashes -r requirements/dev.txt
	$(PIP) --no-deps -e .
	@touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/paperroute demo --port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/python tests/run.py

# Style, types and the documentation site; CI runs it before `make test`.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python docs/generate.py --check
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

docs: $(VENV)/.installed-dev
	$(BIN)/python docs/generate.py
	$(BIN)/mkdocs serve

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py

# Re-resolve the lock files after a change to the dependencies in pyproject.toml.
lock: $(VENV)/.installed
	$(PIP) uv
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
		--quiet -o requirements/demo.txt
	$(BIN)/uv pip compile pyproject.toml --extra test --extra lint --universal --python-version 3.11 \
		--generate-hashes --quiet -o requirements/dev.txt

clean:
	rm -rf $(VENV) build *.egg-info site
