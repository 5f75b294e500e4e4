# `make train` and `make test` set up .venv (once, or when requirements.txt
# changes) and run the main job on the synthetic data / the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt pytest
	touch $@

.PHONY: setup train test
setup: $(VENV)/.installed

train: $(VENV)/.installed
	$(PY) main.py --mode train --dataset synthetic $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest -q tests $(ARGS)
