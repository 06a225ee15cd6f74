# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The train program of every vit22b_pax experiment.

paxml's `SingleTaskTrainProgram` plus
  * `model_tflops_per_sec` and `mfu` summaries at each summary interval
    (`vit22b_pax.perf.mfu_program`), and
  * the non-finite guard: a NaN/Inf loss, metric, gradient norm or weight
    stops the run naming the step and the quantity, before that state can be
    checkpointed (`vit22b_pax.experiments.guard`).
"""

from __future__ import annotations

from vit22b_pax.experiments import guard
from vit22b_pax.perf import mfu_program


class ViT22BTrainProgram(guard.NonFiniteGuard, mfu_program.MfuTrainProgram):
  """SingleTaskTrainProgram + MFU summaries + non-finite guard.

  Constructor arguments: `flops_per_example`, `peak_flops_per_chip`
  (MfuTrainProgram) and `guarded_summaries`, `check_state_before_save`
  (NonFiniteGuard).
  """
