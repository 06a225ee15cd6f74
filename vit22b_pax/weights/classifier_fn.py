# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A checkpointed classifier as a pure JAX function of (variables, images).

`runtime.restore.restore_predict_fn` gives a numpy-in, numpy-out callable;
exporting (jax2tf) and exact checks need the pure function and its variables
apart: `load(experiment, job_log_dir)` reads every model variable of a
checkpoint by name (`runtime.checkpoints.read_variable`, the variables
paxml's metadata lists, checked against the experiment's model) and returns

  ClassifierFn.logits(variables, images [B, S, S, 3] float in [-1, 1])
      -> [B, K] float32
  ClassifierFn.probs(...)  softmax, or sigmoid for a sigmoid head

with `model.apply(..., method=compute_predictions)` under `do_eval=True`, as
paxml's evaluation applies the model.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from paxml import tasks_lib
from praxis import base_hyperparams
from praxis import base_layer
from praxis import py_utils
from praxis.layers import embedding_softmax

from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import experiment as experiment_lib
from vit22b_pax.runtime import warm_start

NestedMap = py_utils.NestedMap


@dataclasses.dataclass
class ClassifierFn:
  """A restored classifier.

  Attributes:
    model: the instantiated praxis model.
    variables: its variables {'params': {...}} (numpy).
    image_size: input side length of the experiment's input specs.
    num_classes: head width K.
    sigmoid: the head is a sigmoid (multi-label) head.
    step: the checkpoint's step.
  """

  model: Any
  variables: dict[str, Any]
  image_size: int
  num_classes: int
  sigmoid: bool
  step: int

  def logits(self, variables, images: jax.Array) -> jax.Array:
    """[B, S, S, 3] images in [-1, 1] -> [B, K] float32 logits."""
    batch = NestedMap(image=images, label_probs=jnp.zeros(
        (images.shape[0], self.num_classes), jnp.float32))
    context = base_layer.JaxContext.HParams(do_eval=True)
    with base_layer.JaxContext.new_context(hparams=context):
      out = self.model.apply(variables, batch,
                             method=self.model.compute_predictions,
                             rngs={base_layer.RANDOM: jax.random.PRNGKey(0)})
    return out.softmax_output.logits.astype(jnp.float32)

  def probs(self, variables, images: jax.Array) -> jax.Array:
    """Class probabilities: softmax, or per-class sigmoid."""
    logits = self.logits(variables, images)
    return jax.nn.sigmoid(logits) if self.sigmoid else jax.nn.softmax(logits)


def _set(tree: dict, name: str, value) -> None:
  keys = name.split('/')
  for key in keys[:-1]:
    tree = tree.setdefault(key, {})
  tree[keys[-1]] = value


def load(experiment: Any, job_log_dir: str,
         step: int | None = None) -> ClassifierFn:
  """Reads a classifier experiment's checkpoint.

  Args:
    experiment: registered name, recipe call, class or instance.
    job_log_dir: the job's directory (checkpoints in `<dir>/checkpoints`).
    step: checkpoint step; None = the latest.

  Raises:
    ValueError: no checkpoint, a model without a softmax head, an EMA
      learner, or checkpoint variables that do not match the model.
  """
  exp = experiment_lib.resolve(experiment)
  task_p = exp.task()
  softmax_p = getattr(task_p.model, 'softmax_tpl', None)
  if softmax_p is None or not hasattr(softmax_p, 'num_classes'):
    raise ValueError('The experiment\'s model has no softmax_tpl with '
                     'num_classes (expected a praxis ClassificationModel).')
  ckpt = checkpoints.resolve(job_log_dir, step)
  jax_task = base_hyperparams.instantiate(task_p)
  if tasks_lib.has_ema(jax_task):
    raise ValueError('Experiments with an EMA of the weights are not '
                     'supported here; use runtime.restore.restore_predict_fn.')
  specs_p = exp.get_input_specs_provider_params()
  shapes = warm_start.model_shapes(task_p.model, specs_p)
  stored = checkpoints.variables(ckpt)
  variables: dict[str, Any] = {}
  for name, shape in sorted(shapes.items()):
    if name not in stored:
      raise ValueError(f'Checkpoint {str(ckpt.path)!r} has no variable '
                       f'{name!r} {shape} of this experiment.')
    if stored[name][0] != tuple(shape):
      raise ValueError(f'Checkpoint {str(ckpt.path)!r}: {name!r} has shape '
                       f'{stored[name][0]} but the experiment needs '
                       f'{tuple(shape)}.')
    _set(variables, name, np.asarray(checkpoints.read_variable(ckpt, name)))
  specs = base_hyperparams.instantiate(specs_p).get_input_specs()
  return ClassifierFn(
      model=jax_task.model, variables=variables,
      image_size=int(specs['image'].shape[1]),
      num_classes=int(softmax_p.num_classes),
      sigmoid=issubclass(softmax_p.cls,
                         embedding_softmax.SigmoidCrossEntropy),
      step=ckpt.step)
