# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Image classifier over the ViT-22B encoder, on praxis' ClassificationModel.

The encoder is `network` and the classifier head is praxis' `softmax` layer:
`FullSoftmax` (softmax cross-entropy: fine-tuning, ImageNet-style) or
`SigmoidCrossEntropy` (multi-label sigmoid cross-entropy: the paper's JFT
pretraining, head bias initialised negative). See `classifier_config`.

Beyond praxis' metrics (avg_xent, accuracy, acc5, ...) it reports
`total_loss` (the learner's loss name in every vit22b_pax experiment), weighs
every example by the input's `eval_sample_weights`, reports precision@1 and
example mAP for multi-label targets (`multi_label`) and, when
an evaluation batch carries `texture_label` (the procedural data), the
shape-bias metrics of Geirhos et al.:
  shape_bias = shape hits / (shape hits + texture hits)
over images whose texture class differs from their shape class, emitted as a
weighted scalar with weight (shape hits + texture hits), so paxml's weighted
mean over eval batches is exactly the pooled ratio. A split without any cue
hit (no conflicting image, e.g. the `test` split at texture_prob=1.0 or real
data with texture_label -1) gives weight 0; the eval program
(`runtime/eval_program.py`) leaves such a metric out of its summaries and
progress line instead of writing paxml's 0 / max(0, 1e-6) = 0.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
from praxis import base_layer
from praxis import pax_fiddle
from praxis import py_utils
from praxis.layers import embedding_softmax
from praxis.layers import models

from vit22b_pax.models import multilabel

NestedMap = py_utils.NestedMap
WeightInit = base_layer.WeightInit


class ViT22BClassifier(models.ClassificationModel):
  """ClassificationModel with example weights, total_loss and extra metrics.

  Example weights: praxis' ClassificationModel reads `input_batch.weight` and
  otherwise weighs every example 1, so eval padding and unreadable images
  would count. Here the weights come from `eval_sample_weights` (every
  vit22b_pax input sets it: 0 for padding / unreadable images), else `weight`,
  else ones; they weigh the loss (praxis' softmax `class_weights`, so
  avg_xent and total_weight) and every metric (accuracy, acc5, shape bias,
  precision@1, example mAP).

  Per-example eval outputs are praxis' `labels` (label_probs) and `scores`
  (logits) plus `weights`; the logits are not repeated under a second key.

  Attributes:
    shape_bias_metrics: in evaluation (`do_eval`), emit shape/texture hit
      metrics when the batch has a `texture_label` field (values < 0 mark
      images without a texture cue). Not on training batches: shape bias is
      an evaluation of the trained model, and a training batch without a
      conflicting image would only contribute a weight-0 scalar.
    multi_label: targets are k-hot (sigmoid loss on multi-label data): report
      `precision_at_1` and `example_map` (see `multilabel.py`) instead of
      accuracy / acc5, which assume one class per image. The class mAP of a
      split is computed on the host from the per-example outputs
      (`multilabel.class_map_from_per_example`).
  """

  shape_bias_metrics: bool = True
  multi_label: bool = False

  def compute_predictions(self, input_batch: NestedMap) -> NestedMap:
    inputs = input_batch[self.input_field]
    batch_size = inputs.shape[0]
    if 'eval_sample_weights' in input_batch:
      weights = input_batch.eval_sample_weights
    elif 'weight' in input_batch:
      weights = input_batch.weight
    else:
      weights = jnp.ones([batch_size], jnp.float32)
    if weights.shape != (batch_size,):
      raise ValueError(f'example weights must have shape ({batch_size},), '
                       f'got {weights.shape}.')
    weights = weights.astype(jnp.float32)
    features = self.network(inputs)
    # The softmax layers take per-example weights as [B, 1] class_weights.
    softmax_output = self.softmax(
        inputs=features, class_weights=weights[:, jnp.newaxis],
        class_probabilities=input_batch[self.label_field])
    return NestedMap(features=features, softmax_output=softmax_output,
                     example_weights=weights)

  def compute_loss(self, predictions: NestedMap,
                   input_batch: NestedMap) -> tuple[NestedMap, dict[str, Any]]:
    metrics, per_example_out = super().compute_loss(predictions, input_batch)
    out = predictions.softmax_output
    weights = predictions.example_weights
    metrics.total_loss = (out.avg_xent, out.total_weight)
    logits = out.logits
    if self.multi_label:
      for key in ('accuracy', 'error', 'acc5', 'error5'):
        metrics.pop(key, None)
      label_probs = input_batch[self.label_field]
      metrics.precision_at_1 = multilabel.precision_at_1(
          logits, label_probs, weights)
      metrics.example_map = multilabel.example_map(logits, label_probs,
                                                   weights)
    if (self.shape_bias_metrics and self.do_eval and
        'texture_label' in input_batch):
      metrics.update(shape_bias_metrics(logits, input_batch.label,
                                        input_batch.texture_label, weights))
    per_example_out['weights'] = weights
    return metrics, per_example_out


def shape_bias_metrics(logits, labels, texture_labels, weights) -> NestedMap:
  """Shape-bias weighted scalars for a batch of cue-conflict images.

  Args:
    logits: [B, K] class scores.
    labels: [B] shape class.
    texture_labels: [B] class whose texture the image carries (< 0: none).
    weights: [B] example weights (padding has weight 0).

  Returns:
    NestedMap of (value, weight) pairs: shape_bias (weight: cue hits),
    shape_accuracy and texture_accuracy (the fraction of conflicting images
    classified by shape / by texture; weight: conflicting images). A weight
    is exactly 0 when the batch has no cue hit / no conflicting image; the
    value is then 0 (finite, so the non-finite guard never trips on it) and
    carries no information.
  """
  pred = jnp.argmax(logits, axis=-1)
  labels = labels.astype(pred.dtype)
  texture_labels = texture_labels.astype(pred.dtype)
  valid = ((texture_labels >= 0) & (texture_labels != labels)).astype(
      jnp.float32) * weights
  shape_hits = jnp.sum((pred == labels) * valid)
  texture_hits = jnp.sum((pred == texture_labels) * valid)
  cue_hits = shape_hits + texture_hits
  n = jnp.sum(valid)
  ratio = lambda hits, total: jnp.where(
      total > 0, hits / jnp.where(total > 0, total, 1.0), 0.0)
  return NestedMap(
      shape_bias=(ratio(shape_hits, cue_hits), cue_hits),
      shape_accuracy=(ratio(shape_hits, n), n),
      texture_accuracy=(ratio(texture_hits, n), n),
  )


def classifier_config(
    network_p: pax_fiddle.Config,
    num_classes: int,
    loss: str = 'softmax',
    head_zero_init: bool = True,
    head_bias_init: float | None = None,
    multi_label: bool = False,
) -> pax_fiddle.Config[ViT22BClassifier]:
  """Builds a ViT22BClassifier config.

  Args:
    network_p: encoder config (images [B, H, W, C] -> features [B, D]); its
      `model_dims` is the head's input width.
    num_classes: number of classes K.
    loss: 'softmax' (FullSoftmax, softmax cross-entropy) or 'sigmoid'
      (SigmoidCrossEntropy, multi-label sigmoid cross-entropy as in the paper's
      JFT pretraining).
    head_zero_init: initialise the head kernel to zeros (big_vision's
      `head_zeroinit`, the usual choice for fine-tuning).
    head_bias_init: constant head bias; default 0 for softmax and
      -log(K - 1) for sigmoid, which makes every initial class probability
      1/K. For JFT's 29,593 classes that is -10.3, i.e. big_vision's
      `init_head_bias=-10`: sigmoid losses start from a negative bias so the
      initial loss is not dominated by the ~all-negative targets.
    multi_label: k-hot targets (a labels CSV or a TFDS sequence-label
      feature): needs loss='sigmoid'; reports precision@1 and example mAP
      instead of accuracy / acc5.

  Returns:
    The model config.
  """
  if loss not in ('softmax', 'sigmoid'):
    raise ValueError(f"loss must be 'softmax' or 'sigmoid', got {loss!r}.")
  if num_classes < 2:
    raise ValueError(f'num_classes must be >= 2, got {num_classes}.')
  if multi_label and loss != 'sigmoid':
    raise ValueError("multi_label=True needs loss='sigmoid' (independent "
                     f"per-class targets), got loss={loss!r}.")
  if head_bias_init is None:
    head_bias_init = (-math.log(num_classes - 1) if loss == 'sigmoid'
                      else 0.0)
  cls = (embedding_softmax.FullSoftmax if loss == 'softmax'
         else embedding_softmax.SigmoidCrossEntropy)
  softmax_p = pax_fiddle.Config(
      cls, input_dims=network_p.model_dims, num_classes=num_classes,
      bias_init=head_bias_init)
  if head_zero_init:
    softmax_p.feed_forward_tpl.linear_tpl.params_init = WeightInit.Constant(0.0)
  return pax_fiddle.Config(
      ViT22BClassifier, name='classifier', network_tpl=network_p,
      softmax_tpl=softmax_p, multi_label=multi_label)
