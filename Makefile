# `make train` and `make test` set up .venv (once, or when requirements.txt or
# this file change) and run the main job on the synthetic data / the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=
RUN ?= runs/cpu

$(VENV)/.installed: requirements.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt pytest pytest-xdist
	touch $@

.PHONY: setup train test
setup: $(VENV)/.installed

# The CPU preset of the synthetic benchmark, held-out metrics every 50 steps
# (RUN/eval.csv), then eval: RUN/metrics.json and sample GIFs in RUN/samples.
train: $(VENV)/.installed
	$(PY) main.py --mode train --dataset synthetic --preset cpu --checkpoint_dir $(RUN) $(ARGS)
	$(PY) main.py --mode eval --dataset synthetic --preset cpu --checkpoint_dir $(RUN) \
		--samples_dir $(RUN)/samples $(ARGS)

# Two worker processes (pytest-xdist): most of the suite's time is building
# TensorFlow graphs in Python, one core per process; heavy tests start first
# (tests/conftest.py). `python -m pytest -q tests` runs them in one process.
test: $(VENV)/.installed
	$(PY) -m pytest -q -n 2 --dist load --maxschedchunk 1 tests $(ARGS)
