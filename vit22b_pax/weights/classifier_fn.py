# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A checkpointed classifier as a pure JAX function of (variables, images).

`runtime.restore.restore_predict_fn` gives a numpy-in, numpy-out callable;
exporting (jax2tf) and exact checks need the pure function and its variables
apart: `load(experiment, job_log_dir)` restores a checkpoint through the one
loader every tool uses (`runtime.restore.load`: the newest intact step by
default, the EMA of the weights when the learner keeps one) and returns

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
from praxis import base_hyperparams
from praxis import base_layer
from praxis import py_utils
from praxis.layers import embedding_softmax

from vit22b_pax.runtime import experiment as experiment_lib
from vit22b_pax.runtime import restore

NestedMap = py_utils.NestedMap


@dataclasses.dataclass
class ClassifierFn:
  """A restored classifier.

  Attributes:
    model: the instantiated praxis model.
    variables: its eval variables {'params': {...}, ...} (numpy; the EMA
      when the learner keeps one).
    image_size: input side length of the experiment's input specs.
    num_classes: head width K.
    sigmoid: the head is a sigmoid (multi-label) head.
    step: the checkpoint's step.
    restored: the loader's account of what it read
      (`runtime.restore.Restored.describe()`).
  """

  model: Any
  variables: dict[str, Any]
  image_size: int
  num_classes: int
  sigmoid: bool
  step: int
  restored: str = ''

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


def load(experiment: Any, job_log_dir: str, step: int | None = None,
         verification: str = 'checksum') -> ClassifierFn:
  """Restores a classifier experiment's checkpoint (`runtime.restore.load`).

  Args:
    experiment: registered name, recipe call, class or instance.
    job_log_dir: the job's directory (checkpoints in `<dir>/checkpoints`).
    step: checkpoint step; None = the newest intact one.
    verification: checkpoint verification level.

  Raises:
    ValueError: no checkpoint, a damaged step, or a model without a softmax
      head.
  """
  exp = experiment_lib.resolve(experiment)
  softmax_p = getattr(exp.task().model, 'softmax_tpl', None)
  if softmax_p is None or not hasattr(softmax_p, 'num_classes'):
    raise ValueError('The experiment\'s model has no softmax_tpl with '
                     'num_classes (expected a praxis ClassificationModel).')
  restored = restore.load(exp, job_log_dir, step, verification=verification)
  specs = base_hyperparams.instantiate(
      exp.get_input_specs_provider_params()).get_input_specs()
  return ClassifierFn(
      model=restored.model,
      variables=jax.tree_util.tree_map(np.asarray, restored.variables),
      image_size=int(specs['image'].shape[1]),
      num_classes=int(softmax_p.num_classes),
      sigmoid=issubclass(softmax_p.cls,
                         embedding_softmax.SigmoidCrossEntropy),
      step=restored.step, restored=restored.describe())
