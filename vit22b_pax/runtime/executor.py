# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The executor of every vit22b_pax experiment.

paxml's `main` builds eval programs only with `--eval_on_test`; without it a
train job never touches `eval_datasets()`. `TrainAndEvalExecutor` runs the
experiment's eval programs at every `eval_interval_steps` either way, and
closes the run with a summary: the last evaluation of each split and where
the checkpoints and TensorBoard summaries are.
"""

from __future__ import annotations

from typing import Callable, Sequence

from paxml import executors
from paxml import programs

from vit22b_pax.runtime import console


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

  def start(self):
    super().start()
    console.emit(self.summary())

  def summary(self) -> str:
    """The closing lines: last evaluation per split, output locations."""
    lines = ['', '=' * 72]
    evaluated = [p for p in self._eval_programs
                 if getattr(p, 'last_step', None) is not None]
    if evaluated:
      lines.append(f'Evaluation at step {evaluated[0].last_step}:')
      for program in evaluated:
        lines.append(f'  {program.split_name:<12} '
                     f'{console.metrics_text(program.last_metrics)}')
    else:
      lines.append('No evaluation ran (eval_interval_steps is 0 or there is '
                   'no eval data).')
    job = self._job_log_dir
    lines += [f'Checkpoints: {job / "checkpoints"}',
              f'TensorBoard: tensorboard --logdir {job / "summaries"}',
              '=' * 72]
    return '\n'.join(lines)
