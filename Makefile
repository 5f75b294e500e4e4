# `make train` and `make test` set up .venv (once, or when requirements.txt
# changes) and run the main job on the synthetic data / the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=
RUN ?= runs/cpu

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt pytest
	touch $@

.PHONY: setup train test
setup: $(VENV)/.installed

# The CPU preset of the synthetic benchmark, held-out metrics every 50 steps
# (RUN/eval.csv), then eval: RUN/metrics.json and sample GIFs in RUN/samples.
train: $(VENV)/.installed
	$(PY) main.py --mode train --dataset synthetic --preset cpu --checkpoint_dir $(RUN) $(ARGS)
	$(PY) main.py --mode eval --dataset synthetic --preset cpu --checkpoint_dir $(RUN) \
		--samples_dir $(RUN)/samples $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest -q tests $(ARGS)
