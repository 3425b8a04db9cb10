# Each target creates its virtual environment and installs what it needs: a fresh machine
# needs only Python 3.11 and make. What they install comes from the committed locks in
# requirements/, so a new release of a tool never changes a verdict by surprise; `make lock`
# regenerates them and `make test-latest` meets new releases on purpose.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The lock the test environment installs; test-latest and test-oldest swap it (see below).
LOCK ?= requirements/test.txt

.PHONY: demo example-colour test lint typecheck pytest docs docs-check fuzz bench lock test-latest test-oldest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The demo needs only the library and its runtime dependencies: a small, quick venv.
.venv-demo/.installed: requirements/demo.txt
	@echo "demo: creating .venv-demo and installing typednet's runtime from requirements/demo.txt ..."
	$(PYTHON) -m venv .venv-demo
	.venv-demo/bin/python -m pip install --progress-bar on -r requirements/demo.txt
	.venv-demo/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# The development environment: exact versions with their hashes, then typednet itself
# (editable, built by the locked setuptools).
$(VENV)/.installed: $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

demo: .venv-demo/.installed
	.venv-demo/bin/python -m typednet demo

# Red and white wines together: a residual MLP with the colour embedded against a chain of
# as many params (examples/wine_colour.py; EPOCHS=5 for a quick run).
EPOCHS ?= 200
example-colour: $(VENV)/.installed
	$(BIN)/python examples/wine_colour.py --epochs $(EPOCHS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy
	$(BIN)/pyright --pythonpath $(BIN)/python

pytest: $(VENV)/.installed
	$(BIN)/pytest -q

# The API reference, from the docstrings, in strict mode: a broken reference fails.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint typecheck pytest docs

# The built site in a real browser: Debian's Chromium (apt-get install chromium), driven by
# Playwright; screenshots go to site-check/. Not part of `make test`, which needs no root.
docs-check: $(VENV)/.installed
	@command -v chromium >/dev/null || { echo "docs-check needs Chromium: apt-get install chromium"; exit 1; }
	$(BIN)/pytest -q -p no:cacheprovider tests_browser

# The same suite against the newest releases of everything (no lock), in its own venv.
test-latest:
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip setuptools
	.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev,docs]'
	touch .venv-latest/.installed
	$(MAKE) test VENV=.venv-latest

# The same suite at the lowest versions pyproject.toml declares for the runtime
# dependencies and the extras (requirements/oldest.txt, locked like the rest).
test-oldest:
	$(MAKE) test VENV=.venv-oldest LOCK=requirements/oldest.txt

# Regenerate every lock from pyproject.toml (universal: any OS, Python 3.11 and newer).
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes
lock: $(VENV)/.installed
	$(UV_COMPILE) pyproject.toml requirements/tools.in -o requirements/demo.txt
	$(UV_COMPILE) pyproject.toml requirements/tools.in --extra dev --extra docs -o requirements/test.txt
	$(BIN)/python requirements/lowest.py > requirements/lowest.txt
	$(UV_COMPILE) pyproject.toml requirements/tools.in --extra dev --extra docs \
		-c requirements/lowest.txt -o requirements/oldest.txt

# The fuzz suite at length: 3000 examples a property instead of 40 (a few minutes).
fuzz: $(VENV)/.installed
	$(BIN)/pytest -q tests/test_fuzz.py --hypothesis-profile=fuzz

# The peers (PyTorch 2.13.0 CPU, scikit-learn, JAX and optax) and numba for fit(compiled=True),
# installed on top of the test lock, whose versions (without their hashes: the torch wheel
# is not on the index) constrain the rest.
bench: $(VENV)/.installed
	grep -E '^[A-Za-z]' $(LOCK) | sed 's/ *\\$$//' > $(VENV)/constraints.txt
	$(BIN)/python -m pip install --quiet -c $(VENV)/constraints.txt -e '.[bench]'
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/growth.py

clean:
	rm -rf $(VENV) .venv-demo .venv-latest .venv-oldest site site-check .mypy_cache .pytest_cache \
		.ruff_cache .hypothesis
