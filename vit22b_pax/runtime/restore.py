# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The one checkpoint loader for inference and evaluation.

`load(experiment, job_log_dir, step)` serves every reader of a trained
model: `restore_predict_fn` here (predict, run_stimuli, ood_eval), the
few-shot tool's features and `weights.classifier_fn` (export). It follows
paxml's own evaluation restore (`eval_lib._SpmdEvalCheckpointer` /
`_PmapEvalCheckpointer`):

1. step None = the newest intact checkpoint (`runtime/integrity.py`: a
   damaged newer one is skipped with a warning naming it; a damaged `step`
   asked for is an error);
2. the experiment's `task()` is instantiated and the model is initialised
   abstractly (`trainer_lib.create_train_state_metadata`, i.e.
   `model.abstract_init_with_metadata` + the task's train-state shapes and
   partition specs), without optimizer states unless the learner keeps an EMA;
3. orbax restores the train state from `<job_log_dir>/checkpoints`
   (`checkpoints.restore_checkpoint`, GDA checkpoints for pjit models, i.e.
   models with a mesh, FLAX otherwise, as paxml's `checkpoint_types.
   retrieve_checkpoint_type`);
4. the eval variables are `to_eval_state()`, or the EMA of the weights
   (`tasks_lib.extract_ema`) when the learner keeps one.

`Restored.describe()` is the line every tool prints (`report`) so the step
it read is never a guess: "restored step 3 of <dir> (EMA weights; skipped
damaged newer checkpoint(s) <path>)".

`restore_predict_fn` applies the variables with `model.apply(..., method=
model.compute_predictions)` under `do_eval=True`, jit-compiled:
`predict_fn(images float32 [B, H, W, 3] in [-1, 1]) -> probs [B, K]`, softmax
of the logits for a softmax head, sigmoid for a sigmoid (multi-label) head.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any, Callable, TextIO

from absl import flags
import jax
import jax.numpy as jnp
import numpy as np
from paxml import checkpoints as pax_checkpoints
from paxml import tasks_lib
from paxml import trainer_lib
from praxis import base_hyperparams
from praxis import base_layer
from praxis import py_utils
from praxis.layers import embedding_softmax

from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import experiment as experiment_lib
from vit22b_pax.runtime import integrity

NestedMap = py_utils.NestedMap


def checkpoint_type(task_p) -> pax_checkpoints.CheckpointType:
  """GDA for pjit models (with a mesh), else FLAX (or GDA when pmap uses
  tensorstore), as `checkpoint_types.retrieve_checkpoint_type` without
  persistence; works before absl flags are parsed (library/test use)."""
  if task_p.model.mesh_shape is not None:
    return pax_checkpoints.CheckpointType.GDA
  try:
    tensorstore = py_utils.pmap_use_tensorstore()
  except flags.UnparsedFlagAccessError:
    tensorstore = False
  return (pax_checkpoints.CheckpointType.GDA if tensorstore
          else pax_checkpoints.CheckpointType.FLAX)


def _image_size(exp) -> int:
  """The resolution the experiment's input specs declare."""
  specs = base_hyperparams.instantiate(
      exp.get_input_specs_provider_params()).get_input_specs()
  return int(specs['image'].shape[1])


def _model_facts(task_p) -> tuple[int, bool]:
  """(num_classes, sigmoid head?) of a ClassificationModel config."""
  softmax_p = getattr(task_p.model, 'softmax_tpl', None)
  if softmax_p is None or not hasattr(softmax_p, 'num_classes'):
    raise ValueError('the experiment model has no softmax_tpl with '
                     'num_classes (expected a praxis ClassificationModel)')
  sigmoid = issubclass(softmax_p.cls, embedding_softmax.SigmoidCrossEntropy)
  return int(softmax_p.num_classes), sigmoid


@dataclasses.dataclass
class Restored:
  """A restored checkpoint's eval variables and where they came from.

  Attributes:
    experiment: the resolved experiment instance.
    task_p: its task config.
    jax_task: the instantiated task.
    model: the instantiated model (`jax_task.model`).
    variables: the eval variables (`to_eval_state().mdl_vars`, or the EMA).
    step: the checkpoint step read.
    checkpoint_dir: `<job_log_dir>/checkpoints`.
    checkpoint_type: GDA or FLAX.
    ema: the variables are the learner's EMA of the weights.
    skipped: paths of damaged newer checkpoints passed over.
    mesh: the model's device mesh (None for pmap models).
  """

  experiment: Any
  task_p: Any
  jax_task: Any
  model: Any
  variables: Any
  step: int
  checkpoint_dir: str
  checkpoint_type: Any
  ema: bool
  skipped: list[str]
  mesh: jax.sharding.Mesh | None

  def describe(self) -> str:
    notes = ['EMA weights'] if self.ema else []
    if self.skipped:
      notes.append('skipped damaged newer checkpoint(s) '
                   + ', '.join(self.skipped))
    return (f'restored step {self.step} of {self.checkpoint_dir}'
            + (f' ({"; ".join(notes)})' if notes else ''))


def report(restored: Restored | str, tool: str,
           file: TextIO | None = None) -> None:
  """Prints the one line naming the step a tool read (stderr by default):
  `[tool] restored step N of <dir> (...)`; `restored` is a Restored or its
  `describe()` (e.g. `info['restored']` of `restore_predict_fn`)."""
  text = restored if isinstance(restored, str) else restored.describe()
  print(f'[{tool}] {text}', file=sys.stderr if file is None else file,
        flush=True)


def model_mesh(model) -> jax.sharding.Mesh | None:
  """The model's mesh over the first prod(mesh_shape) devices, or None."""
  shape = model.hparams.mesh_shape
  if shape is None:
    return None
  n = math.prod(shape)
  return jax.sharding.Mesh(np.array(jax.devices()[:n]).reshape(shape),
                           model.hparams.mesh_axis_names)


def load(experiment: Any, job_log_dir: str, step: int | None = None,
         input_specs: NestedMap | None = None,
         verification: str = 'checksum') -> Restored:
  """Restores the eval variables of a checkpoint (see the module docstring).

  Args:
    experiment: experiment instance, class, registered name or recipe call
      (see `runtime.experiment.resolve`).
    job_log_dir: the training job's log dir (checkpoints in
      `<job_log_dir>/checkpoints`).
    step: checkpoint step; None = the newest intact one.
    input_specs: the input specs the model is initialised with; default the
      experiment's input specs provider's.
    verification: checkpoint verification level (`integrity.LEVELS`).

  Raises:
    ValueError: no checkpoint (naming the directory), the step is missing,
      or it (or every checkpoint) is damaged.
  """
  exp = experiment_lib.resolve(experiment)
  ckpt, damaged = integrity.select(job_log_dir, step, verification)
  step, ckpt_dir = ckpt.step, checkpoints.checkpoint_dir(job_log_dir)
  task_p = exp.task()
  jax_task = base_hyperparams.instantiate(task_p)
  model = jax_task.model
  if input_specs is None:
    input_specs = base_hyperparams.instantiate(
        exp.get_input_specs_provider_params()).get_input_specs()
  use_ema = tasks_lib.has_ema(jax_task)
  ckpt_type = checkpoint_type(task_p)
  mesh = model_mesh(model)
  with base_layer.JaxContext.new_context():
    if ckpt_type == pax_checkpoints.CheckpointType.GDA:
      meta = trainer_lib.create_train_state_metadata(
          jax_task, input_specs, discard_opt_states=not use_ema,
          do_eval=True)
      state = pax_checkpoints.restore_checkpoint(
          meta.padded_global_shapes, ckpt_dir, global_mesh=mesh,
          checkpoint_type=ckpt_type, state_specs=meta.partition_specs,
          step=step,
          state_unpadded_shape_dtype_struct=meta.unpadded_global_shapes)
    else:
      # pmap FLAX checkpoints hold the whole state (paxml restores it all and
      # trims the optimizer states afterwards).
      meta = trainer_lib.create_train_state_metadata(
          jax_task, input_specs, discard_opt_states=False, do_eval=True)
      state = pax_checkpoints.restore_checkpoint(
          meta.unpadded_global_shapes, ckpt_dir,
          checkpoint_type=ckpt_type, step=step,
          state_unpadded_shape_dtype_struct=meta.unpadded_global_shapes)
  state = tasks_lib.extract_ema(state) if use_ema else state.to_eval_state()
  return Restored(
      experiment=exp, task_p=task_p, jax_task=jax_task, model=model,
      variables=state.mdl_vars, step=step, checkpoint_dir=str(ckpt_dir),
      checkpoint_type=ckpt_type, ema=use_ema,
      skipped=[str(v.ckpt.path) for v in damaged], mesh=mesh)


def restore_predict_fn(
    experiment: Any,
    job_log_dir: str,
    step: int | None = None,
    image_size: int | None = None,
    verification: str = 'checksum',
) -> tuple[Callable[[np.ndarray], np.ndarray], dict[str, Any]]:
  """Restores a checkpoint (`load`) and returns (predict_fn, info).

  Args:
    experiment, job_log_dir, step, verification: as `load`.
    image_size: input side length; default the experiment's input specs'.

  Returns:
    predict_fn(images [B, H, W, 3] float32 in [-1, 1]) -> probs [B, K]
    (numpy), and info {'step', 'num_classes', 'image_size', 'checkpoint_dir',
    'sigmoid', 'checkpoint_type', 'ema', 'skipped', 'restored'} ('skipped':
    paths of damaged newer checkpoints; 'restored': `Restored.describe()`).

  Raises:
    ValueError: no checkpoint (naming the directory), the step is missing,
      or it (or every checkpoint) is damaged.
  """
  exp = experiment_lib.resolve(experiment)
  image_size = image_size or _image_size(exp)
  num_classes, sigmoid = _model_facts(exp.task())
  spec = NestedMap(
      image=jax.ShapeDtypeStruct((1, image_size, image_size, 3), jnp.float32),
      label_probs=jax.ShapeDtypeStruct((1, num_classes), jnp.float32))
  restored = load(exp, job_log_dir, step, spec, verification)
  model, mdl_vars = restored.model, restored.variables
  context_p = base_layer.JaxContext.HParams(do_eval=True)

  @jax.jit
  def _probs(variables, images):
    batch = NestedMap(image=images, label_probs=jnp.zeros(
        (images.shape[0], num_classes), jnp.float32))
    with base_layer.JaxContext.new_context(hparams=context_p):
      out = model.apply(variables, batch, method=model.compute_predictions,
                        rngs={base_layer.RANDOM: jax.random.PRNGKey(0)})
    logits = out.softmax_output.logits.astype(jnp.float32)
    return jax.nn.sigmoid(logits) if sigmoid else jax.nn.softmax(logits)

  def predict_fn(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[1:] != (image_size, image_size, 3):
      raise ValueError(f'images must be [B, {image_size}, {image_size}, 3], '
                       f'got {images.shape}')
    return np.asarray(_probs(mdl_vars, images))

  info = {'step': restored.step, 'num_classes': num_classes,
          'image_size': image_size,
          'checkpoint_dir': restored.checkpoint_dir, 'sigmoid': sigmoid,
          'checkpoint_type': str(restored.checkpoint_type),
          'ema': restored.ema, 'skipped': restored.skipped,
          'restored': restored.describe()}
  return predict_fn, info
