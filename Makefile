# Two commands: `make train` (the default pretraining job) and `make test`.
# Each creates the virtual environment from the lock file on first use.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.vit22b_pax-installed
JOB_DIR ?= runs/pretrain
EXP ?= vit22b_pax.experiments.pretrain.ProceduralTiny
PYTEST_ARGS ?=

.PHONY: venv train test clean-venv

venv: $(STAMP)

$(STAMP): requirements-lock.txt pyproject.toml
	@echo "==> creating $(VENV) from requirements-lock.txt (first use only, ~1-2 min)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -r requirements-lock.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

train: $(STAMP)
	$(PY) -m vit22b_pax.main --exp=$(EXP) --job_log_dir=$(JOB_DIR)

test: $(STAMP)
	$(PY) -m pytest -q --durations=15 $(PYTEST_ARGS) tests

clean-venv:
	rm -rf $(VENV)
