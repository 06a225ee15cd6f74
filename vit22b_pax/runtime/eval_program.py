# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The eval program of every vit22b_pax experiment.

paxml's `SingleTaskEvalProgram` plus one progress line per evaluation,
printed from the metrics the program just computed (`runtime/console.py`),
and the last result kept for the run's closing summary.
"""

from __future__ import annotations

from paxml import programs

from vit22b_pax.runtime import console


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

  def run(self, state, step):
    output = super().run(state, step)
    if output.eval_metrics:
      self.last_step = step
      self.last_metrics = dict(output.eval_metrics)
      console.emit(console.eval_line(self.split_name, step,
                                     self.last_metrics))
    return output
