# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Eval program reporting whole-set CLU metrics like paxml's eval metrics.

paxml 1.4's `SingleTaskEvalProgram` merges a model's CLU metrics over every
eval batch (the pooled confusion matrix / depth sums of
`vit22b_pax.eval.dense_metrics`), but then writes their values with
`compute_and_write_clu_metric_summaries` outside its eval summary writer, so
they never reach TensorBoard, the console or the program's `eval_metrics`.

`PooledMetricsEvalProgram` computes every merged CLU metric once, at the end
of the pass, and hands each value to paxml's ordinary eval-metric path as a
single (value, weight 1) entry: paxml then logs it (`  seg/miou=0.53`),
writes it under the eval summary writer (`eval_test_<split>/Metrics/...`) and
returns it in `EvalProgramOutput.eval_metrics`. A one-entry weighted mean is
the value itself, so nothing is averaged per batch.
"""

from __future__ import annotations

import numpy as np
from paxml import metric_utils
from paxml import programs


def pooled_entries(clu_metrics) -> dict[str, list[tuple[np.ndarray,
                                                        np.ndarray]]]:
  """{name: [(value, 1.0)]} of every merged CLU metric's computed values."""
  out = {}
  for name, value in metric_utils.compute_metric_values(clu_metrics).items():
    out[name] = [(np.asarray(value.value, np.float32),
                  np.asarray(1.0, np.float32))]
  return out


class PooledMetricsEvalProgram(programs.SingleTaskEvalProgram):
  """SingleTaskEvalProgram whose CLU metrics become logged eval metrics."""

  def _run_eval_loop(self, state):
    (num_steps, losses, summaries, metrics, scores,
     clu_metrics) = super()._run_eval_loop(state)
    for name, entries in pooled_entries(clu_metrics).items():
      if name in metrics:
        raise ValueError(f'Eval metric {name!r} is both a weighted scalar '
                         'and a CLU metric value.')
      metrics[name] = entries
    return num_steps, losses, summaries, metrics, scores, {}
