# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""An executor that evaluates on the held-out splits during training.

paxml's `main` builds eval programs only with `--eval_on_test`; without it a
train job never touches `eval_datasets()`. Our experiments return this
executor from `executor()`, so `python -m paxml.main --exp=...` evaluates at
every `EVAL_INTERVAL_STEPS` with or without the flag (with the flag paxml's own
programs are used unchanged).
"""

from __future__ import annotations

from typing import Callable, Sequence

from paxml import executors
from paxml import programs


class TrainAndEvalExecutor(executors.DefaultExecutor):
  """DefaultExecutor that always runs the experiment's eval programs."""

  def __init__(self,
               eval_programs_fn: Callable[[], Sequence[programs.BaseEvalProgram]]):
    super().__init__()
    self._eval_programs_fn = eval_programs_fn

  def setup(self, jax_task, job_log_dir, checkpointer, partitioner,
            input_specs_provider, train_input_p, train_program, eval_programs,
            decode_programs, early_stopping_fn, **kwargs):
    if not eval_programs and jax_task.train.eval_interval_steps:
      eval_programs = self._eval_programs_fn()
    super().setup(jax_task, job_log_dir, checkpointer, partitioner,
                  input_specs_provider, train_input_p, train_program,
                  eval_programs, decode_programs, early_stopping_fn, **kwargs)
