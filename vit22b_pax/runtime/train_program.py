# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The train program of every vit22b_pax experiment.

paxml's `SingleTaskTrainProgram` plus
  * `model_tflops_per_sec` and `mfu` summaries at each summary interval
    (`runtime/mfu.py`, FLOPs derived from the task's model);
  * the non-finite guard: a NaN/Inf loss, metric, gradient norm or weight
    stops the run naming the step and the quantity, before that state can be
    checkpointed (`runtime/guard.py`);
  * one progress line per summary interval, printed from the step's own
    metrics (`runtime/console.py`).
"""

from __future__ import annotations

import jax
import numpy as np

from vit22b_pax.runtime import console
from vit22b_pax.runtime import guard
from vit22b_pax.runtime import mfu


def _scalar_values(loss, weighted_scalars) -> dict[str, float]:
  loss, weighted_scalars = jax.device_get((loss, weighted_scalars or {}))
  values = {'loss': float(np.mean(loss))}
  for name, scalar in weighted_scalars.items():
    value = scalar[0] if isinstance(scalar, (tuple, list)) else scalar
    values[name] = float(np.mean(value))
  return values


class ViT22BTrainProgram(guard.NonFiniteGuard, mfu.MfuTrainProgram):
  """SingleTaskTrainProgram + MFU summaries + guard + progress lines.

  Constructor arguments: `flops_per_example`, `peak_flops_per_chip`
  (`mfu.MfuTrainProgram`) and `guarded_summaries`, `check_state_before_save`
  (`guard.NonFiniteGuard`).
  """

  def _maybe_write_summaries(self, step, new_step, train_outputs,
                             compute_steps_per_sec_interval_steps=10):
    steps_per_sec = super()._maybe_write_summaries(
        step, new_step, train_outputs, compute_steps_per_sec_interval_steps)
    if self._train_summary_handler.should_write(new_step):
      values = _scalar_values(train_outputs.loss,
                              train_outputs.weighted_scalars)
      console.emit(console.train_line(
          new_step, int(self._task.train.num_train_steps), values,
          steps_per_sec, self.last_mfu))
    return steps_per_sec
