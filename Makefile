# Each target sets up what it needs: the virtual environment, pinned packages, MNIST.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLAVOR := $(if $(GPU),gpu,cpu)
STAMP  := $(VENV)/.installed-$(FLAVOR)
TORCH_STAMP := $(VENV)/.installed-torch
NODE_STAMP := node_modules/.installed
HOST   ?= 127.0.0.1:8000

.PHONY: setup data test test-quick test-jax test-torch backend-experiment js-fixtures test-full outputs train bench figures export pooling-experiment pooling-experiment-cpu translation-experiment serve build clean help
help:
	@echo "make serve   build the site and serve it on http://$(HOST)"
	@echo "make test    run the whole test suite (offline): pytest, then npm test"
	@echo "make test-quick  the tests that need no training, site build or browser, in about a minute"
	@echo "make test-jax  the chapters, a train.py run, the from-scratch checks and the playground on Keras's JAX backend"
	@echo "make test-torch  the same on Keras's PyTorch backend (installs PyTorch's CPU build first)"
	@echo "make js-fixtures  write the Keras fixtures that npm test checks the page modules against (build/js-fixtures/)"
	@echo "make test-full  the suite plus the full-length experiments it shortens"
	@echo "make outputs rerun the docs pages and rewrite the shown outputs that changed (ALL=1, PAGES=...)"
	@echo "make train   train the book's convnet with the book's recipe"
	@echo "make bench   the headline, about 15 minutes: the book's code, train.py and the fast recipe, 5 seeds (ARGS=--all: and the probes, batch-size curve and pipelines; ARGS=--search: the validation search)"
	@echo "make figures regenerate every figure of the site in snaps/, and the playground's exported convnet"
	@echo "make export MODEL=path/to/model.keras OUT=folder  export your own saved model for the playground's Load your own model (OUT default: runs/export)"
	@echo "make pooling-experiment  the pooling experiment on all the images, 10 seeds (replaces the stored 3-seed run in snaps/pooling_experiment.json; GPU=1 ARGS=--device gpu)"
	@echo "make pooling-experiment-cpu  its CPU-sized version, 20 seeds (snaps/pooling_experiment_cpu.json)"
	@echo "make translation-experiment  rerun the translation experiment in full (snaps/translation_experiment.json)"
	@echo "make backend-experiment  the first chapter's convnet trained on TensorFlow, then JAX, then PyTorch (snaps/backends.json)"
	@echo "make data    provision MNIST offline into data/mnist.npz"
	@echo "make setup   create .venv with the pinned packages, TensorFlow and JAX for the CPU (GPU=1: TensorFlow with CUDA; JAX with CUDA, see requirements/gpu.txt) and npm ci the site assets"

# The project's own package is installed in editable mode, so that every script, in code/ or
# code/notebooks/, imports the convnets package of this checkout (offline: no build isolation;
# PYTHONWARNINGS hides setuptools' generic caution about editable installs).
$(STAMP): requirements/base.txt requirements/$(FLAVOR).txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip uninstall --quiet --yes $(if $(GPU),tensorflow-cpu,tensorflow) 2>/dev/null || true
	$(PY) -m pip install --quiet -r requirements/$(FLAVOR).txt
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	rm -f $(VENV)/.installed-*
	touch $@

# PyTorch is for make test-torch only: the chapters need one backend, and the set-up installs TensorFlow and JAX.
$(TORCH_STAMP): requirements/torch.txt $(STAMP)
	$(PY) -m pip install --quiet -r requirements/torch.txt
	touch $@

# The site's browser assets (MathJax, and axe-core for the tests) come from npm, pinned by package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup: $(STAMP) $(NODE_STAMP)

data: setup
	$(PY) code/prepare_data.py

train: data
	$(PY) code/train.py $(ARGS)

# The headline, about 15 minutes on a 2-core CPU: 5 seeds of three ways to train, timed to the end. Opt-in parts
# (ARGS="--probes --batch-curve --pipelines", or --all for every part the page shows, about half an hour in all):
# the throughput probes, the batch-size curve and the input pipelines' epoch times. ARGS=--search runs the
# validation search that chose the fast recipe instead (72 short runs, about 25 minutes).
bench: data
	$(PY) code/bench.py $(ARGS)

# Every figure of the site, drawn into snaps/; trained models come from runs/cache (trained once if missing).
figures: data
	$(PY) code/make_figures.py $(ARGS)

# A saved Keras model as the playground's manifest and weights file (convnets-export), for its "Load your own model".
OUT ?= runs/export
export: setup
	@test -n "$(MODEL)" || { echo "make export: name the saved model, MODEL=path/to/model.keras"; exit 2; }
	$(VENV)/bin/convnets-export "$(MODEL)" "$(OUT)"

# The pooling experiment in full: four models, the book's 5 epochs, 10 seeds each (minutes on a GPU,
# many hours on a CPU). The CPU-sized version: a sixth of the images, 3 epochs, 20 seeds (about an hour on 2 cores).
pooling-experiment: data
	$(PY) code/pooling_experiment.py --seeds 10 $(ARGS)

pooling-experiment-cpu: data
	$(PY) code/pooling_experiment.py --limit 10000 --epochs 3 --seeds 20 --device cpu \
		--output snaps/pooling_experiment_cpu.json $(ARGS)

# The translation experiment in full: three models on a 40×40 canvas, 2 epochs, 3 seeds each, test digits
# shifted by 0 to 6 pixels (about 20 minutes on a 2-core CPU).
translation-experiment: data
	$(PY) code/translation_experiment.py --epochs 2 --seeds 3 $(ARGS)

# The first chapter's convnet, as its page trains it, on TensorFlow, then JAX, then PyTorch: the test accuracy and
# the training time of each, for the chapter's note on backends (about 10 minutes on a 2-core CPU).
backend-experiment: data $(TORCH_STAMP)
	$(PY) code/backend_experiment.py $(ARGS)

build: setup
	$(PY) -m mkdocs build --strict

serve: setup
	$(PY) -m mkdocs serve --strict --dev-addr $(HOST)

# pytest exits 5 when it collected no tests: that is a failure here, said plainly. pytest writes the Keras
# fixtures into build/js-fixtures/, then npm test checks the page modules against them in Node (tests/js/).
test: data
	$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests"; fi; exit $$status
	npm test

# The quick loop: every test that needs no training, no site build and no browser (tests/conftest.py marks the
# last two; the page blocks train), then the Node tests.
QUICK := not slow and not site and not browser and not page
test-quick: data
	$(PY) -m pytest -m "$(QUICK)" $(PYTEST_ARGS)
	npm test

# Keras on JAX and on PyTorch (CI runs both after make test): the six chapters' blocks with their outputs compared,
# a short train.py run and its one-line errors, the from-scratch checks against Keras and the playground's forward
# pass (the tests marked `backends`). The models train again on each: the cache keys on the backend. The first
# chapter's two train in a second process from the start (tests/warm_cache.py) while what does not need them runs:
# the chapters that train their own, the checks, then the two chapters that load them (tests/conftest.py puts the
# tests that do last).
OWN_MODELS := docs/convolution.md docs/padding.md docs/strides.md docs/invariance.md
SHARED_MODELS := docs/max-pooling.md docs/first-convnet.md
test-jax test-torch: test-%: data
	KERAS_BACKEND=$* $(PY) -m pytest -m "backends or page" $(OWN_MODELS) tests $(SHARED_MODELS) $(PYTEST_ARGS)
test-torch: $(TORCH_STAMP)

js-fixtures: data
	$(PY) -m pytest -q -m "not slow" tests/test_explorer.py tests/test_playground.py tests/test_unit_arithmetic.py

# The whole suite, plus the full-length experiments that the default run shortens or skips.
test-full: data
	$(PY) -m pytest --full $(PYTEST_ARGS)

# Rerun the docs pages' blocks and rewrite, in place, each shown output that no longer matches what its
# block prints. ALL=1 rewrites every shown output; PAGES="docs/a.md ..." limits the run to those pages.
# Trained models are reused from runs/cache (keyed by code, data and settings) unless CONVNETS_CACHE says otherwise.
outputs: data
	CONVNETS_CACHE="$${CONVNETS_CACHE:-runs/cache}" $(PY) -m pytest -m page --update-outputs=$(if $(ALL),all,changed) \
		$(if $(PAGES),tests $(PAGES)) $(PYTEST_ARGS)

clean:
	rm -rf site .pytest_cache
