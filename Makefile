# Two commands: `make train` (the default pretraining job) and `make test`.
# Each creates the virtual environment from the lock file on first use.
PYTHON ?= python3.11
VENV := .venv
# Accelerator: cpu (default), cuda12 or tpu (requirements-$(ACCEL).txt on top
# of the CPU lock; see README "Running on GPU / TPU").
ACCEL ?= cpu
TPU_FIND_LINKS := https://storage.googleapis.com/jax-releases/libtpu_releases.html
PY := $(VENV)/bin/python
STAMP = $(VENV)/.vit22b_pax-installed-$(ACCEL)
JOB_DIR ?= runs/pretrain
EXP ?= vit22b_pax.experiments.pretrain.ProceduralTiny
PYTEST_ARGS ?=

.PHONY: venv train test test-fast clean-venv

venv: $(STAMP)

$(STAMP): requirements-lock.txt pyproject.toml $(wildcard requirements-$(ACCEL).txt)
	@case "$(ACCEL)" in cpu|cuda12|tpu) ;; *) echo "ACCEL=$(ACCEL): expected cpu, cuda12 or tpu" >&2; exit 2;; esac
	@echo "==> creating $(VENV) from requirements-lock.txt (first use only, ~1-2 min)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -r requirements-lock.txt
	@if [ "$(ACCEL)" = cuda12 ]; then \
	  $(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -r requirements-cuda12.txt; fi
	@if [ "$(ACCEL)" = tpu ]; then \
	  $(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -f $(TPU_FIND_LINKS) -r requirements-tpu.txt; fi
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

train: $(STAMP)
	$(PY) -m vit22b_pax.main --exp=$(EXP) --job_log_dir=$(JOB_DIR)

test: $(STAMP)
	$(PY) -m pytest -q --durations=15 $(PYTEST_ARGS) tests

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS) tests

clean-venv:
	rm -rf $(VENV)
