# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Restores a Pax experiment's checkpoint into a `predict_fn`.

Follows paxml's own evaluation restore (`eval_lib._SpmdEvalCheckpointer` /
`_PmapEvalCheckpointer`):

1. the experiment's `task()` is instantiated and the model is initialised
   abstractly (`trainer_lib.create_train_state_metadata`, i.e.
   `model.abstract_init_with_metadata` + the task's train-state shapes and
   partition specs), without optimizer states unless the learner keeps an EMA;
2. orbax restores the train state from `<job_log_dir>/checkpoints`
   (`checkpoints.restore_checkpoint`, GDA checkpoints for pjit models, i.e.
   models with a mesh, FLAX otherwise, as paxml's `checkpoint_types.
   retrieve_checkpoint_type`); step None = the latest;
3. the eval variables (`to_eval_state()`, or the EMA via `tasks_lib.
   extract_ema`) are applied with `model.apply(..., method=
   model.compute_predictions)` under `do_eval=True`, jit-compiled.

`predict_fn(images float32 [B, H, W, 3] in [-1, 1]) -> probs [B, K]`: softmax
of the logits for a softmax head, sigmoid for a sigmoid (multi-label) head.
"""

from __future__ import annotations

import importlib
import math
import os
import re
from typing import Any, Callable

from absl import flags
import jax
import jax.numpy as jnp
import numpy as np
from etils import epath
from paxml import base_experiment
from paxml import checkpoints
from paxml import experiment_registry
from paxml import tasks_lib
from paxml import trainer_lib
from praxis import base_hyperparams
from praxis import base_layer
from praxis import py_utils
from praxis.layers import embedding_softmax

NestedMap = py_utils.NestedMap
_CKPT = re.compile(r'^checkpoint_(\d+)$')


def get_experiment(experiment: Any) -> base_experiment.BaseExperiment:
  """An experiment instance from an instance, a class or a name.

  Args:
    experiment: a BaseExperiment instance or subclass, or a name: a key of
      paxml's experiment registry, or 'package.module.ClassName' (the module
      is imported, which registers it).
  """
  if isinstance(experiment, base_experiment.BaseExperiment):
    return experiment
  if isinstance(experiment, type) and issubclass(
      experiment, base_experiment.BaseExperiment):
    return experiment()
  if not isinstance(experiment, str):
    raise ValueError(f'experiment must be a name, class or instance, got '
                     f'{experiment!r}')
  cls = experiment_registry.get(experiment)
  if cls is None and '.' in experiment:
    module_name, cls_name = experiment.rsplit('.', 1)
    try:
      module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
      raise ValueError(f'experiment {experiment!r}: cannot import module '
                       f'{module_name!r}') from e
    cls = experiment_registry.get(experiment) or getattr(module, cls_name,
                                                         None)
  if cls is None:
    raise ValueError(f'experiment {experiment!r} is neither registered nor '
                     "importable as 'package.module.ClassName'")
  return cls()


def checkpoint_steps(checkpoint_dir: str) -> list[int]:
  """Steps of the `checkpoint_<step>` folders in checkpoint_dir, sorted."""
  if not os.path.isdir(checkpoint_dir):
    return []
  return sorted(int(m.group(1)) for m in map(_CKPT.match,
                                              os.listdir(checkpoint_dir)) if m)


def checkpoint_type(task_p) -> checkpoints.CheckpointType:
  """GDA for pjit models (with a mesh), else FLAX (or GDA when pmap uses
  tensorstore), as `checkpoint_types.retrieve_checkpoint_type` without
  persistence; works before absl flags are parsed (library/test use)."""
  if task_p.model.mesh_shape is not None:
    return checkpoints.CheckpointType.GDA
  try:
    tensorstore = py_utils.pmap_use_tensorstore()
  except flags.UnparsedFlagAccessError:
    tensorstore = False
  return (checkpoints.CheckpointType.GDA if tensorstore
          else checkpoints.CheckpointType.FLAX)


def _model_facts(task_p) -> tuple[int, bool]:
  """(num_classes, sigmoid head?) of a ClassificationModel config."""
  softmax_p = getattr(task_p.model, 'softmax_tpl', None)
  if softmax_p is None or not hasattr(softmax_p, 'num_classes'):
    raise ValueError('the experiment model has no softmax_tpl with '
                     'num_classes (expected a praxis ClassificationModel)')
  sigmoid = issubclass(softmax_p.cls, embedding_softmax.SigmoidCrossEntropy)
  return int(softmax_p.num_classes), sigmoid


def restore_predict_fn(
    experiment: Any,
    job_log_dir: str,
    step: int | None = None,
    image_size: int | None = None,
) -> tuple[Callable[[np.ndarray], np.ndarray], dict[str, Any]]:
  """Restores a checkpoint and returns (predict_fn, info).

  Args:
    experiment: experiment instance, class or name (see `get_experiment`).
    job_log_dir: the training job's log dir (checkpoints in
      `<job_log_dir>/checkpoints`).
    step: checkpoint step; None = the latest.
    image_size: input side length; default the experiment's `IMAGE_SIZE`.

  Returns:
    predict_fn(images [B, H, W, 3] float32 in [-1, 1]) -> probs [B, K]
    (numpy), and info {'step', 'num_classes', 'image_size', 'checkpoint_dir',
    'sigmoid'}.

  Raises:
    ValueError: no checkpoint (naming the directory), or the step is missing.
  """
  exp = get_experiment(experiment)
  ckpt_dir = os.path.join(os.fspath(job_log_dir), 'checkpoints')
  steps = checkpoint_steps(ckpt_dir)
  if not steps:
    raise ValueError(f'no checkpoint found in {ckpt_dir!r} (expected '
                     'checkpoint_<step> folders written by paxml)')
  if step is None:
    step = steps[-1]
  elif step not in steps:
    raise ValueError(f'no checkpoint for step {step} in {ckpt_dir!r}; '
                     f'available steps: {steps}')
  image_size = image_size or getattr(exp, 'IMAGE_SIZE', None)
  if not image_size:
    raise ValueError('image_size not given and the experiment has no '
                     'IMAGE_SIZE')
  task_p = exp.task()
  num_classes, sigmoid = _model_facts(task_p)
  jax_task = base_hyperparams.instantiate(task_p)
  model = jax_task.model
  use_ema = tasks_lib.has_ema(jax_task)
  spec = NestedMap(
      image=jax.ShapeDtypeStruct((1, image_size, image_size, 3), jnp.float32),
      label_probs=jax.ShapeDtypeStruct((1, num_classes), jnp.float32))
  ckpt_type = checkpoint_type(task_p)
  with base_layer.JaxContext.new_context():
    if ckpt_type == checkpoints.CheckpointType.GDA:
      meta = trainer_lib.create_train_state_metadata(
          jax_task, spec, discard_opt_states=not use_ema, do_eval=True)
      mesh_shape = model.hparams.mesh_shape
      n = math.prod(mesh_shape)
      mesh = jax.sharding.Mesh(
          np.array(jax.devices()[:n]).reshape(mesh_shape),
          model.hparams.mesh_axis_names)
      state = checkpoints.restore_checkpoint(
          meta.padded_global_shapes, epath.Path(ckpt_dir), global_mesh=mesh,
          checkpoint_type=ckpt_type, state_specs=meta.partition_specs,
          step=step,
          state_unpadded_shape_dtype_struct=meta.unpadded_global_shapes)
    else:
      # pmap FLAX checkpoints hold the whole state (paxml restores it all and
      # trims the optimizer states afterwards).
      meta = trainer_lib.create_train_state_metadata(
          jax_task, spec, discard_opt_states=False, do_eval=True)
      state = checkpoints.restore_checkpoint(
          meta.unpadded_global_shapes, epath.Path(ckpt_dir),
          checkpoint_type=ckpt_type, step=step,
          state_unpadded_shape_dtype_struct=meta.unpadded_global_shapes)
  state = tasks_lib.extract_ema(state) if use_ema else state.to_eval_state()
  mdl_vars = state.mdl_vars
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

  info = {'step': step, 'num_classes': num_classes, 'image_size': image_size,
          'checkpoint_dir': ckpt_dir, 'sigmoid': sigmoid,
          'checkpoint_type': str(ckpt_type)}
  return predict_fn, info
