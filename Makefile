# The two commands a newcomer runs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast bench horovod clean cache-sizes clean-cache

setup: $(STAMP)

# Installs the dependencies only: the code runs from this folder (pytest finds it through pyproject's `pythonpath`).
# torch is pinned here, to the build the README's figures were measured with (the CPU build of 2.13.0 installs from
# the local wheel store in seconds); pyproject.toml lists the rest and the range of torch that works. `--group`
# needs pip >= 25.1.
TORCH_PIN := torch==2.13.0

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade "pip>=25.1" >/dev/null
	$(PY) -m pip install $(TORCH_PIN)
	$(PY) -m pip install --group dev --group export
	touch $(STAMP)

# The main job on the embedded synthetic dataset: data, both stages, stitching + fine-tuning, run, eval, pictures.
demo: setup
	$(PY) demo.py

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

bench: setup
	for script in bench/*.py; do $(PY) $$script || exit 1; done

# Horovod 0.28.1 (its last release) builds against torch 2.x only as C++17: fetch the sdist, switch the two
# CMAKE_CXX_STANDARD lines from 14 to 17, build it with Gloo (no MPI, TensorFlow or MXNet) into .venv.
# Idempotent: does nothing when `import horovod.torch` already works. Takes about 5 minutes on 2 cores.
HOROVOD_VERSION := 0.28.1
HOROVOD_BUILD := .cache/horovod-build

horovod: setup
	@if $(PY) -c "import horovod.torch" 2>/dev/null; then \
		echo "horovod: already installed ($$($(PY) -c 'import horovod; print(horovod.__version__)'))"; \
	else \
		set -e; \
		rm -rf $(HOROVOD_BUILD) && mkdir -p $(HOROVOD_BUILD); \
		$(PY) -m pip install --quiet packaging wheel cloudpickle psutil pyyaml; \
		$(PY) -m pip download --quiet --no-deps --no-binary :all: horovod==$(HOROVOD_VERSION) -d $(HOROVOD_BUILD); \
		tar -xzf $(HOROVOD_BUILD)/horovod-$(HOROVOD_VERSION).tar.gz -C $(HOROVOD_BUILD); \
		src=$(HOROVOD_BUILD)/horovod-$(HOROVOD_VERSION); \
		sed -i 's/set(CMAKE_CXX_STANDARD 14)/set(CMAKE_CXX_STANDARD 17)/' $$src/CMakeLists.txt $$src/horovod/torch/CMakeLists.txt; \
		grep -q 'set(CMAKE_CXX_STANDARD 17)' $$src/horovod/torch/CMakeLists.txt; \
		env MAKEFLAGS=-j2 HOROVOD_WITH_PYTORCH=1 HOROVOD_WITH_GLOO=1 HOROVOD_WITHOUT_MPI=1 \
			HOROVOD_WITHOUT_TENSORFLOW=1 HOROVOD_WITHOUT_MXNET=1 \
			$(PY) -m pip install --no-build-isolation --no-cache-dir $$src; \
		$(PY) -c "import horovod, horovod.torch as hvd; print('horovod', horovod.__version__, 'installed; gloo:', hvd.gloo_built())"; \
	fi

clean:
	rm -rf $(VENV) .cache .pytest_cache

# The caches ($$STITCHPOSE_CACHE, else .cache/): synthetic dataset, hourglass crops, prepared lifter tensors, ...
cache-sizes: setup
	$(PY) -m utils.paths

clean-cache: setup
	$(PY) -m utils.paths --clear
