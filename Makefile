# Two commands for a new user: `make run` opens the app, `make test` runs the whole suite.
# Both create .venv and install what is missing on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip -q --disable-pip-version-check
# The CPU build of torch; on this machine the wheel lies on disk. Override for other machines.
TORCH_SPEC ?= torch==2.13.0

.PHONY: run test bench readme-speed lint clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install "$(TORCH_SPEC)"
	$(PIP) install -e .
	# Compile the numba kernels once now (cached on disk), not at the first Play.
	$(PY) -c "import core.linear_kernels as k; k.warm()"
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PIP) install -e ".[test]"
	touch $@

run: $(VENV)/.base
	$(VENV)/bin/fnlab

# pytest exits 5 when it collected nothing: an empty suite is a broken suite, so fail loudly.
test: $(VENV)/.test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# Every figure against a baseline or the machine reference measured in the same run; the
# results go to bench-results.json too, from which `make readme-speed` writes the README's
# speed section (generated, never typed).
bench: $(VENV)/.test
	QT_QPA_PLATFORM=offscreen $(PY) -m bench --json bench-results.json

readme-speed: $(VENV)/.base
	$(PY) -m bench.readme bench-results.json

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV)
