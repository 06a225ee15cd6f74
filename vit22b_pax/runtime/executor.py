# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The executor of every vit22b_pax experiment.

paxml's `main` builds eval programs only with `--eval_on_test`; without it a
train job never touches `eval_datasets()`. `TrainAndEvalExecutor` runs the
experiment's eval programs at every `eval_interval_steps` either way, and
closes the run with a summary: the last evaluation of each split and where
the checkpoints and TensorBoard summaries are.

It also
  * wraps paxml's checkpointer in `ManifestCheckpointer` (an integrity
    manifest after each save, `runtime/integrity.py`);
  * arms SIGTERM handling for the training loop (`runtime/preemption.py`);
    after a preemption stop it prints where the checkpoint is and exits with
    status 143 (128 + SIGTERM: the job is not finished; rerunning the same
    command resumes it);
  * releases the job-directory lock taken by `validate()`
    (`runtime/jobdir.py`) when training ends.
"""

from __future__ import annotations

from typing import Callable, Sequence

from paxml import executors
from paxml import programs

from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import console
from vit22b_pax.runtime import jobdir
from vit22b_pax.runtime import preemption
from vit22b_pax.runtime import verified_checkpointer

# Exit status after a preemption stop (what a shell reports for SIGTERM).
PREEMPTED_EXIT_CODE = 143


class Preempted(SystemExit):
  """Training stopped for SIGTERM after saving its checkpoint."""

  def __init__(self, message: str):
    super().__init__(PREEMPTED_EXIT_CODE)
    self.message = message


class TrainAndEvalExecutor(executors.DefaultExecutor):
  """DefaultExecutor that always runs the experiment's eval programs, with
  checkpoint manifests, preemption saves and the job lock released at the
  end."""

  def __init__(self,
               eval_programs_fn: Callable[
                   [], Sequence[programs.BaseEvalProgram]] | None = None,
               checkpoint_verification: str = 'checksum'):
    """Args:

    eval_programs_fn: () -> eval programs run during training; None = only
      those paxml passes (`--eval_on_test`).
    checkpoint_verification: manifest level (`integrity.LEVELS`).
    """
    super().__init__()
    self._eval_programs_fn = eval_programs_fn
    self._verification = checkpoint_verification

  def setup(self, jax_task, job_log_dir, checkpointer, partitioner,
            input_specs_provider, train_input_p, train_program, eval_programs,
            decode_programs, early_stopping_fn, **kwargs):
    if (not eval_programs and self._eval_programs_fn is not None and
        jax_task.train.eval_interval_steps):
      eval_programs = self._eval_programs_fn()
    preemption.install()
    checkpointer = verified_checkpointer.ManifestCheckpointer(
        checkpointer, job_log_dir, self._verification)
    super().setup(jax_task, job_log_dir, checkpointer, partitioner,
                  input_specs_provider, train_input_p, train_program,
                  eval_programs, decode_programs, early_stopping_fn, **kwargs)

  def start(self):
    try:
      super().start()
    finally:
      preemption.uninstall()
      jobdir.release(self._job_log_dir)
    console.emit(self.summary())
    stopped = preemption.stopped_at()
    if stopped is not None:
      message = self.preemption_message(stopped)
      console.emit(message)
      raise Preempted(message)

  def preemption_message(self, step: int) -> str:
    """What the run prints after a preemption stop."""
    found = checkpoints.list_checkpoints(self._job_log_dir / 'checkpoints')
    saved = found[-1] if found else None
    elapsed = preemption.seconds_since_signal()
    after = f' {elapsed:.1f} s after the signal' if elapsed is not None else ''
    where = (f'checkpoint step {saved.step} saved{after}: {saved.path}'
             if saved is not None else 'no checkpoint was saved')
    return (f'[preempted] SIGTERM: stopped at step {step} of '
            f'{self._task.train.num_train_steps}; {where}. Rerun the same '
            'command to resume.')

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
              'TensorBoard: .venv/bin/tensorboard --logdir '
              f'{job / "summaries"}',
              '=' * 72]
    return '\n'.join(lines)
