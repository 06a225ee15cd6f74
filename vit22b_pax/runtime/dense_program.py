# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Eval program reporting whole-set CLU metrics like paxml's eval metrics.

paxml 1.4's `SingleTaskEvalProgram` merges a model's CLU metrics over every
eval batch (the confusion matrix / depth sums of
`vit22b_pax.eval.dense_metrics`), but then writes their values with
`compute_and_write_clu_metric_summaries` outside its eval summary writer, so
they never reach TensorBoard, the console or the program's `eval_metrics`.

`PooledMetricsEvalProgram` computes every merged CLU metric once, at the end
of the pass, and hands each value to paxml's ordinary eval-metric path as a
single (value, weight 1) entry: paxml then logs it, writes it under the eval
summary writer (`summaries/eval_test_<split>/Metrics/miou`, ...), returns it
in `EvalProgramOutput.eval_metrics`, and the console line prints it. A
one-entry weighted mean is the value itself, so nothing is averaged per
batch. Names are flat: a metric returning {'miou': ..} reports 'miou'.
"""

from __future__ import annotations

import numpy as np
from paxml import metric_utils
from praxis import base_input
from praxis import pax_fiddle

from vit22b_pax.runtime import eval_program


def pooled_entries(clu_metrics) -> dict[str, list[tuple[np.ndarray,
                                                        np.ndarray]]]:
  """{name: [(value, 1.0)]} of every merged CLU metric's computed values.

  'seg/miou' (a dict-valued metric's entry) is reported as 'miou'.

  Raises:
    ValueError: two metrics produce the same flat name.
  """
  out = {}
  for name, value in metric_utils.compute_metric_values(clu_metrics).items():
    flat = name.rsplit('/', 1)[-1]
    if flat in out:
      raise ValueError(f'Two CLU metrics report {flat!r}.')
    out[flat] = [(np.asarray(value.value, np.float32),
                  np.asarray(1.0, np.float32))]
  return out


class PooledMetricsEvalProgram(eval_program.ViT22BEvalProgram):
  """ViT22BEvalProgram whose CLU metrics become logged eval metrics.

  Recipes list it in `extra_eval_programs` (with the input in `input_p`).
  """

  def __init__(self, input_p: pax_fiddle.Config[base_input.BaseInput]):
    super().__init__(input_p)

  @property
  def input_p(self) -> pax_fiddle.Config[base_input.BaseInput]:
    return self._input_p

  def _run_eval_loop(self, state):
    (num_steps, losses, summaries, metrics, scores,
     clu_metrics) = super()._run_eval_loop(state)
    for name, entries in pooled_entries(clu_metrics).items():
      if name in metrics:
        raise ValueError(f'Eval metric {name!r} is both a weighted scalar '
                         'and a CLU metric value.')
      metrics[name] = entries
    return num_steps, losses, summaries, metrics, scores, {}
