# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""paxml's training checkpointer plus an integrity manifest after each save.

paxml creates the checkpointer (`checkpoint_creators._create_checkpointer`)
and hands it to the experiment's executor; `TrainAndEvalExecutor.setup`
wraps it in `ManifestCheckpointer`, which delegates every call and, after
each save, writes `integrity.write_manifest` for every checkpoint of this run
that orbax has committed since (with `--jax_fully_async_checkpoint` a save
commits later: its manifest follows at the next save or at
`wait_until_finished`, which paxml calls before the run ends). Only process
0 writes manifests (it is the host that commits orbax checkpoints).
"""

from __future__ import annotations

from absl import logging
from etils import epath
import jax
from paxml import checkpoints as pax_checkpoints

from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import integrity


class ManifestCheckpointer(pax_checkpoints.TrainingCheckpointer):
  """Delegates to paxml's checkpointer; writes manifests after saves.

  Attributes:
    saved_steps: steps this run saved (and wrote a manifest for), in order.
  """

  def __init__(self, inner: pax_checkpoints.TrainingCheckpointer,
               job_log_dir: epath.PathLike, level: str = 'checksum'):
    self._inner = inner
    self._level = integrity.check_level(level)
    # paxml's checkpoint folder is always <job_log_dir>/checkpoints.
    self._dir = epath.Path(job_log_dir) / 'checkpoints'
    self._seen = set(checkpoints.steps(self._dir))
    self.saved_steps: list[int] = []

  def __getattr__(self, name):
    # Anything else paxml reaches for (e.g. checkpoint_manager).
    return getattr(self._inner, name)

  def _write_manifests(self) -> None:
    if self._level == 'off' or jax.process_index() != 0:
      return
    for ckpt in checkpoints.list_checkpoints(self._dir):
      if ckpt.step in self._seen:
        continue
      self._seen.add(ckpt.step)
      if integrity.manifest_path(ckpt).exists():
        continue
      path = integrity.write_manifest(ckpt, self._level)
      self.saved_steps.append(ckpt.step)
      logging.info('Checkpoint %s committed; manifest %s.', ckpt.path, path)

  def save_if_needed(self, step_i, partitioned_train_state,
                     train_state_unpadded_shape_dtype_struct=None,
                     train_state_pspecs=None, train_input_pipeline=None):
    result = self._inner.save_if_needed(
        step_i, partitioned_train_state,
        train_state_unpadded_shape_dtype_struct, train_state_pspecs,
        train_input_pipeline)
    self._write_manifests()
    return result

  def save_final(self, step_i, *, partitioned_train_state,
                 train_state_unpadded_shape_dtype_struct=None,
                 train_state_pspecs=None, train_input_pipeline=None):
    result = self._inner.save_final(
        step_i, partitioned_train_state=partitioned_train_state,
        train_state_unpadded_shape_dtype_struct=(
            train_state_unpadded_shape_dtype_struct),
        train_state_pspecs=train_state_pspecs,
        train_input_pipeline=train_input_pipeline)
    self._write_manifests()
    return result

  @property
  def step_to_restore(self):
    return self._inner.step_to_restore

  def get_model_states(self, partitioner, metadata, root_prng_key,
                       train_input_pipeline=None):
    return self._inner.get_model_states(partitioner, metadata, root_prng_key,
                                        train_input_pipeline)

  @property
  def checkpoint_type(self):
    return self._inner.checkpoint_type

  def wait_until_finished(self):
    self._inner.wait_until_finished()
    self._write_manifests()

  def reached_preemption(self, step: int) -> bool:
    return self._inner.reached_preemption(step)
