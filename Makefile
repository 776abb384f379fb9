# The two commands a newcomer runs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast bench horovod clean

setup: $(STAMP)

# torch is pinned (see pyproject.toml): the CPU build of 2.13.0 installs from the local wheel store in seconds.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip >/dev/null
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[dev]"
	touch $(STAMP)

SPECIMENS ?= ../shared/specimens

demo: setup
	$(PY) eval.py mpii_PCKh --prediction_files $(SPECIMENS)/mpii/detections_our_format.mat \
		--model_names published --gt $(SPECIMENS)/mpii/detections_our_format.mat --output_dir outputs/demo/pckh

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

bench: setup
	for script in bench/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .cache .pytest_cache
