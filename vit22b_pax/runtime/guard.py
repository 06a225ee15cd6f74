# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Stops training on the first non-finite step, keeping the last checkpoint.

The paper (Sec. 2, 3) trains ViT-22B on the edge of stability: without QK
normalization the attention logits grow until the loss diverges. A diverged
run must stop at once and must never overwrite its last good checkpoint.

Where paxml saves (`executors._train_and_evaluate_common`): at the top of
each loop iteration, `checkpointer.save_if_needed(step_i, state)` saves the
state that the previous `train_program.run` returned, *before* the next
train step runs; after the loop `save_final` saves the last state. Neither
sits in a `finally` block and paxml.main catches nothing, so an exception
raised inside `run` leaves the loop with no further save. `NonFiniteGuard`
therefore checks inside `train_step` (called by `BaseTrainProgram.run`) and
raises before the new state is returned, so it never reaches the
checkpointer:

  * every step: the loss, every weighted-scalar metric and the learner's
    summaries `learning/raw_grad_norm` (gradient norm before clipping) and
    `learning/applied_grad_norm` (norm of the update added to the weights).
    Given finite weights, a finite update norm means finite new weights, so
    by induction from the (finite) initial or restored state every state the
    executor can save is finite;
  * before each state the executor will save (`new_step` a multiple of
    `save_interval_steps`, or the last step): every model variable itself
    (one jitted reduction), which covers learners without norm summaries.

With `--jax_fully_async_checkpoint` a save still in flight when the error is
raised is abandoned; orbax commits a checkpoint only once complete, so the
previous one stays the latest valid checkpoint.

Use it as a mixin in front of any `paxml.programs.BaseTrainProgram`:

  class GuardedMfuTrainProgram(guard.NonFiniteGuard, mfu.MfuTrainProgram):
    pass

  def train_programs(self):
    return [guard.GuardedTrainProgram()]
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Sequence

from absl import logging
import jax
from jax import numpy as jnp
import numpy as np
from paxml import programs

from vit22b_pax.runtime import checkpoints

# Learner summaries checked every step when present (in the step output
# praxis appends the summary type, e.g. '..._aggregate_scalar').
GUARDED_SUMMARIES = ('learning/raw_grad_norm', 'learning/applied_grad_norm')
_SUFFIX = re.compile(
    r'(_aggregate)?_(scalar|image|text|audio|video|histogram)$')


class NonFiniteError(FloatingPointError):
  """A loss, metric, gradient norm or weight became NaN or Inf."""

  def __init__(self, step: int, quantity: str, value: Any,
               last_checkpoint: int | None = None):
    self.step = step
    self.quantity = quantity
    self.value = value
    self.last_checkpoint = last_checkpoint
    ckpt = ('no checkpoint was saved yet' if last_checkpoint is None else
            f'the last good checkpoint (step {last_checkpoint}) is kept')
    super().__init__(
        f'Training diverged at step {step}: {quantity} = {value} is not '
        f'finite. Stopped before this state could be saved; {ckpt}.')


def _summary_name(key: str) -> str:
  """'learning/raw_grad_norm_aggregate_scalar' -> 'learning/raw_grad_norm'."""
  return _SUFFIX.sub('', key)


def _first_bad(value: np.ndarray) -> float:
  """The first non-finite element of `value` (for the message)."""
  flat = np.asarray(value, dtype=np.float64).ravel()
  return float(flat[~np.isfinite(flat)][0])


@jax.jit
def _finite_leaves(tree):
  return jax.tree.map(lambda x: jnp.all(jnp.isfinite(x)), tree)


def _float_leaves(tree) -> Iterator[tuple[str, Any]]:
  for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
    if hasattr(leaf, 'dtype') and jnp.issubdtype(leaf.dtype, jnp.inexact):
      yield jax.tree_util.keystr(path), leaf


class NonFiniteGuard:
  """Train-program mixin raising `NonFiniteError` on a non-finite step.

  Put it first among the bases of a `paxml.programs.BaseTrainProgram`
  subclass; it only extends `setup` and `train_step` through `super()`.

  Attributes (constructor keyword arguments, the rest go to the next base):
    guarded_summaries: learner summaries checked every step when the learner
      writes them (names without the '_scalar' suffix).
    check_state_before_save: also check every model variable before each
      state the executor will checkpoint.
  """

  def __init__(self, *args,
               guarded_summaries: Sequence[str] = GUARDED_SUMMARIES,
               check_state_before_save: bool = True, **kwargs):
    super().__init__(*args, **kwargs)
    for name in guarded_summaries:
      if not isinstance(name, str) or not name:
        raise ValueError(f'guarded_summaries entries must be non-empty '
                         f'summary names, got {name!r}.')
    self.guarded_summaries = tuple(guarded_summaries)
    self.check_state_before_save = bool(check_state_before_save)
    self._guard_job_dir = None

  def setup(self, task, train_input, partitioner, job_log_dir, *args,
            **kwargs):
    super().setup(task, train_input, partitioner, job_log_dir, *args,
                  **kwargs)
    self._guard_job_dir = job_log_dir

  def train_step(self, step, state, prng_key, inputs, static_args):
    new_step, new_state, out = super().train_step(step, state, prng_key,
                                                  inputs, static_args)
    self._check_outputs(step, out)
    if self.check_state_before_save and self._will_save(new_step):
      self._check_state(step, new_state)
    return new_step, new_state, out

  # -- Checks ----------------------------------------------------------------
  def _will_save(self, new_step: int) -> bool:
    train_p = self._task.train
    interval = train_p.save_interval_steps
    return bool((interval and new_step % interval == 0) or
                new_step >= train_p.num_train_steps)

  def _check_outputs(self, step: int, out) -> None:
    """Loss, weighted scalars and guarded summaries of one step."""
    values = {}
    if out.loss is not None:
      values['loss'] = out.loss
    for name, scalar in (out.weighted_scalars or {}).items():
      value = scalar[0] if isinstance(scalar, (tuple, list)) else scalar
      values[f'metric {name}'] = value
    for key, value in (out.summary_tensors or {}).items():
      if _summary_name(key) in self.guarded_summaries:
        values[_summary_name(key)] = value
    values = jax.device_get(values)
    for name, value in values.items():
      if not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
        self._fail(step, name, _first_bad(value))

  def _check_state(self, step: int, new_state) -> None:
    """Every model variable of the state about to be checkpointed."""
    named = list(_float_leaves(new_state.mdl_vars))
    leaves = [leaf for _, leaf in named]
    finite = jax.device_get(_finite_leaves(leaves))
    names = [name for name, _ in named]
    for name, ok, leaf in zip(names, finite, leaves):
      if not ok:
        self._fail(step, f'updated weight mdl_vars{name}',
                   _first_bad(jax.device_get(leaf)))

  def _fail(self, step: int, quantity: str, value: float) -> None:
    steps = (checkpoints.steps(self._guard_job_dir)
             if self._guard_job_dir else [])
    error = NonFiniteError(step, quantity, value,
                           steps[-1] if steps else None)
    logging.error('%s', error)
    # Keep the summaries written so far (they show the divergence).
    try:
      self._train_summary_handler.close()
      self.summary_writer.flush()
    except Exception:  # pylint: disable=broad-except
      logging.exception('Could not flush the train summaries.')
    raise error


class GuardedTrainProgram(NonFiniteGuard, programs.SingleTaskTrainProgram):
  """paxml's `SingleTaskTrainProgram` with the non-finite guard."""
