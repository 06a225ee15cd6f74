# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Runs the import tool in-process and restores the written classifier."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile

import jax
import numpy as np

from vit22b_pax.tools import import_weights
from vit22b_pax.weights import classifier_fn

# The small variant of the tests: 32 wide, 2 blocks, 2 heads, patch 8.
WIDTH, DEPTH, MLP, HEADS, PATCH = 32, 2, 64, 2, 8
SMALL = ['--variant', f'Ti/{PATCH}', '--width', str(WIDTH), '--depth',
         str(DEPTH), '--mlp_dim', str(MLP), '--num_heads', str(HEADS),
         '--size', 'smoke']


def run_import(*args: str, job: str | None = None
               ) -> tuple[int, str, str, str]:
  """(exit code, stdout, stderr, job_log_dir) of one import of the small
  variant (`args` after SMALL, so they may override it)."""
  job = job or os.path.join(tempfile.mkdtemp(prefix='vit22b_import_'), 'job')
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    rc = import_weights.main([*SMALL, *args, '--job_log_dir', job])
  return rc, out.getvalue(), err.getvalue(), job


def imported_logits(job: str, images: np.ndarray) -> np.ndarray:
  """Logits of the experiment import.json names, from the checkpoint."""
  with open(os.path.join(job, 'import.json')) as f:
    exp = json.load(f)['commands']['experiment']
  fn = classifier_fn.load(exp, job)
  return np.asarray(jax.jit(fn.logits)(fn.variables, images), np.float64)


def random_images(seed: int, size: int, batch: int = 3) -> np.ndarray:
  return np.random.RandomState(seed).uniform(
      -1, 1, (batch, size, size, 3)).astype(np.float32)


def assert_logits_close(test, got, want, rtol=1e-5):
  """Relative to the largest reference logit (all logits at once)."""
  scale = np.abs(want).max()
  err = np.abs(got - want).max() / scale
  test.assertLess(err, rtol, f'max relative logit error {err:.3g}')
  test.assertGreater(scale, 0.1)
