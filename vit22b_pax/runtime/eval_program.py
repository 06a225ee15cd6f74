# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The eval program of every vit22b_pax experiment.

paxml's `SingleTaskEvalProgram` plus one progress line per evaluation,
printed from the metrics the program just computed (`runtime/console.py`),
and the last result kept for the run's closing summary.

A weighted metric whose weights sum to 0 over the whole split (e.g.
shape_bias on a split without conflicting images) is left out of the
summaries and the progress line: paxml would write 0 / max(0, 1e-6) = 0 to
TensorBoard and NaN to its returned metrics, neither of which is a
measurement.
"""

from __future__ import annotations

import numpy as np
from paxml import programs

from vit22b_pax.runtime import console


def drop_unweighted(metrics):
  """{name: [(value, weight), ...]} without the metrics of total weight 0."""
  return {name: values for name, values in metrics.items()
          if float(np.sum([np.sum(np.asarray(v[1])) for v in values])) > 0}


class ViT22BEvalProgram(programs.SingleTaskEvalProgram):
  """SingleTaskEvalProgram that prints its result.

  Attributes:
    last_step: step of the last evaluation (None before the first).
    last_metrics: {metric: value} of the last evaluation.
  """

  def __init__(self, input_p):
    super().__init__(input_p)
    self.last_step = None
    self.last_metrics = {}

  @property
  def split_name(self) -> str:
    return self._input_p.name

  def _run_eval_loop(self, state):
    *head, metrics, scores, clu_metrics = super()._run_eval_loop(state)
    return (*head, drop_unweighted(metrics), scores, clu_metrics)

  def run(self, state, step):
    output = super().run(state, step)
    if output.eval_metrics:
      self.last_step = step
      self.last_metrics = dict(output.eval_metrics)
      console.emit(console.eval_line(self.split_name, step,
                                     self.last_metrics))
    return output
