# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Dense prediction on ViT-22B features: semantic segmentation and depth.

`DenseModel` runs the encoder once (`ViT22BEncoder.features`: the patch
tokens of its `feature_layers` blocks) and a decoder
(`layers.decoders`, `layers.dpt`) to per-pixel outputs [B, H, W, K].

* task='segmentation': K class logits; loss = per-pixel softmax
  cross-entropy averaged over labelled pixels (label < 0 = ignore, e.g.
  `dense_inputs.IGNORE_LABEL`); metrics `SegmentationMetrics` (mIoU, pixel
  accuracy over the whole eval set).
* task='depth': one channel r, predicted depth d^ = depth_init * exp(r)
  (positive, starts at `depth_init`); loss over valid pixels
  (`depth_valid` > 0, ground truth within [min_depth, max_depth]):
    'l1':    mean |d^ - d|
    'silog': per image, mean(g^2) - silog_lambda * mean(g)^2 with
             g = log d^ - log d (Eigen et al. 2014's scale-invariant log
             error), averaged over images weighted by their valid pixels;
  metrics `DepthMetrics` (RMSE, AbsRel, log10, delta1..3): by default per
  image, then averaged over images, with big_vision's strict valid mask
  min_depth < d < max_depth (`depth_metric_reduction`='pooled' and
  `depth_valid_mask`='inclusive' give the former pooled, inclusive ones).

Padded eval examples (`eval_sample_weights` 0) count nowhere. Every metric
is a CLU metric (paxml takes either weighted scalars or CLU metrics from a
model, not a mix), so the loss is reported as `total_loss`, a
`WeightedScalarCluMetric`, the learner's loss name.

`freeze_encoder` stops gradients at the features, so the backbone costs no
backward pass; the experiments also exclude its variables from the learner,
which is what keeps them bit for bit (no update, no weight decay).
"""

from __future__ import annotations

import math
from typing import Any

import jax
from jax import numpy as jnp
from paxml import base_metrics
from praxis import base_hyperparams
from praxis import base_layer
from praxis import base_model
from praxis import pax_fiddle
from praxis import py_utils
from praxis import pytypes

from vit22b_pax.eval import dense_metrics
from vit22b_pax.perf import flops

NestedMap = py_utils.NestedMap
JTensor = pytypes.JTensor
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
template_field = base_layer.template_field
TASKS = ('segmentation', 'depth')
DEPTH_LOSSES = ('l1', 'silog')


class DenseModel(base_model.BaseModel):
  """Encoder features -> decoder -> per-pixel loss and pooled metrics.

  Attributes:
    network_tpl: ViT22BEncoder config with `feature_layers` set (child
      'network', the classifier's name, so pretraining checkpoints load).
    decoder_tpl: decoder config; input_dims and num_outputs are filled in.
    task: 'segmentation' or 'depth'.
    num_classes: segmentation classes K.
    freeze_encoder: stop gradients at the encoder's features.
    depth_loss: 'l1' or 'silog'.
    silog_lambda: variance weight of the scale-invariant log loss (0:
      plain log MSE; 1: fully scale invariant).
    depth_init: depth (metres) the decoder predicts at zero output.
    min_depth: evaluation range lower end (metres); predictions are
      clipped to [min_depth, max_depth], ground truth outside is ignored.
    max_depth: evaluation range upper end (metres).
    depth_metric_reduction: 'per_image' (metrics per image, averaged over
      images: the literature's convention) or 'pooled' (over every pixel).
    depth_valid_mask: 'strict' (min_depth < d < max_depth, big_vision) or
      'inclusive' (min_depth <= d <= max_depth) for the metrics.
  """
  network_tpl: LayerTpl | None = template_field(None)
  decoder_tpl: LayerTpl | None = template_field(None)
  task: str = 'segmentation'
  num_classes: int = 0
  freeze_encoder: bool = True
  depth_loss: str = 'silog'
  silog_lambda: float = 0.85
  depth_init: float = 3.0
  min_depth: float = 1e-3
  max_depth: float = 10.0
  depth_metric_reduction: str = 'per_image'
  depth_valid_mask: str = 'strict'

  def setup(self) -> None:
    super().setup()
    if self.task not in TASKS:
      raise ValueError(f'Unknown task={self.task!r}; expected one of {TASKS}.')
    if self.task == 'segmentation' and self.num_classes < 2:
      raise ValueError(f'Segmentation needs num_classes >= 2, got '
                       f'{self.num_classes}.')
    if self.depth_loss not in DEPTH_LOSSES:
      raise ValueError(f'Unknown depth_loss={self.depth_loss!r}; expected '
                       f'one of {DEPTH_LOSSES}.')
    dense_metrics.check_depth_options(self.depth_metric_reduction,
                                      self.depth_valid_mask)
    if not 0 < self.min_depth < self.max_depth or self.depth_init <= 0:
      raise ValueError(
          f'Need 0 < min_depth < max_depth and depth_init > 0, got '
          f'min_depth={self.min_depth}, max_depth={self.max_depth}, '
          f'depth_init={self.depth_init}.')
    if self.network_tpl is None or not self.network_tpl.feature_layers:
      raise ValueError('DenseModel needs network_tpl with feature_layers, '
                       'e.g. encoder.evenly_spaced_layers(num_layers).')
    self.create_child('network', self.network_tpl)
    self.create_child('decoder', self._decoder_config())

  def _decoder_config(self) -> LayerTpl:
    dec = self.decoder_tpl.clone()
    dec.input_dims = self.network_tpl.model_dims
    dec.num_outputs = (self.num_classes if self.task == 'segmentation'
                       else 1)
    return dec

  def flops_per_example(self, image_size: int) -> float:
    """Training FLOPs of one image: the encoder by the paper's count (its
    forward third only when frozen) plus 3x the decoder's forward."""
    enc = flops.encoder_flops(self.network_tpl, image_size)
    encoder = enc.per_image if not self.freeze_encoder else (
        enc.forward_per_image)
    grid = (image_size // self.network_tpl.patch_size,) * 2
    decoder_p = self._decoder_config()
    decoder_p.parent = None  # A detached instance, only for its fields.
    decoder = base_hyperparams.instantiate(decoder_p)
    return encoder + 3.0 * decoder.forward_flops(grid,
                                                 (image_size, image_size))

  def compute_predictions(self, input_batch: NestedMap) -> NestedMap:
    """Per-pixel outputs: logits [B, H, W, K] or depth [B, H, W]."""
    image = input_batch.image
    _, feats = self.network.features(image)
    if self.freeze_encoder:
      feats = [jax.lax.stop_gradient(f) for f in feats]
    out = self.decoder(feats, image.shape[1:3]).astype(jnp.float32)
    if self.task == 'segmentation':
      return NestedMap(logits=out, label=jnp.argmax(out, axis=-1))
    log_depth = out[..., 0] + math.log(self.depth_init)
    return NestedMap(log_depth=log_depth, depth=jnp.exp(log_depth))

  def _example_weights(self, input_batch: NestedMap) -> JTensor:
    b = input_batch.image.shape[0]
    w = input_batch.get('eval_sample_weights')
    return jnp.ones((b,), jnp.float32) if w is None else w.astype(jnp.float32)

  def compute_loss(self, predictions: NestedMap,
                   input_batch: NestedMap) -> tuple[dict[str, Any], NestedMap]:
    ex = self._example_weights(input_batch)[:, None, None]
    if self.task == 'segmentation':
      return self._segmentation_loss(predictions, input_batch, ex)
    return self._depth_loss(predictions, input_batch, ex)

  def _segmentation_loss(self, predictions, input_batch, ex):
    labels = input_batch.label
    k = self.num_classes
    mask = ((labels >= 0) & (labels < k)).astype(jnp.float32) * ex
    logp = jax.nn.log_softmax(predictions.logits, axis=-1)
    safe = jnp.clip(labels, 0, k - 1)
    xent = -jnp.take_along_axis(logp, safe[..., None], axis=-1)[..., 0]
    n = mask.sum()
    loss = jnp.sum(xent * mask) / jnp.maximum(n, 1.0)
    metrics = dict(
        total_loss=_loss_metric(loss, n),
        seg=dense_metrics.SegmentationMetrics.from_batch(
            labels, predictions.label, mask, k))
    return metrics, NestedMap()

  def _depth_loss(self, predictions, input_batch, ex):
    depth = input_batch.depth
    mask = ((input_batch.depth_valid > 0) & (depth >= self.min_depth)
            & (depth <= self.max_depth)).astype(jnp.float32) * ex
    n = mask.sum()
    if self.depth_loss == 'l1':
      err = jnp.abs(predictions.depth - depth)
      loss = jnp.sum(err * mask) / jnp.maximum(n, 1.0)
    else:
      g = predictions.log_depth - jnp.log(jnp.where(mask > 0, depth, 1.0))
      per_n = mask.sum((1, 2))
      mean_g = jnp.sum(g * mask, (1, 2)) / jnp.maximum(per_n, 1.0)
      mean_g2 = jnp.sum(g * g * mask, (1, 2)) / jnp.maximum(per_n, 1.0)
      per_image = mean_g2 - self.silog_lambda * mean_g ** 2
      loss = jnp.sum(per_image * per_n) / jnp.maximum(n, 1.0)
    metrics = dict(
        total_loss=_loss_metric(loss, n),
        depth=dense_metrics.DepthMetrics.from_batch(
            predictions.depth, depth, mask, self.min_depth, self.max_depth,
            self.depth_metric_reduction, self.depth_valid_mask))
    return metrics, NestedMap()


def _loss_metric(loss: JTensor, n: JTensor):
  """The loss as a pooled weighted scalar (weight = its pixels).

  A batch without labelled pixels has loss 0 and a negligible weight rather
  than 0, so the learner's loss (weighted value / weight) stays finite.
  """
  return base_metrics.WeightedScalarCluMetric.create(
      loss, jnp.maximum(n, 1e-6))


def dense_model_config(
    network_p: pax_fiddle.Config,
    decoder_p: pax_fiddle.Config,
    task: str,
    num_classes: int = 0,
    **kwargs: Any,
) -> pax_fiddle.Config[DenseModel]:
  """A DenseModel config named 'dense' (kwargs: its other fields)."""
  return pax_fiddle.Config(DenseModel, name='dense', network_tpl=network_p,
                           decoder_tpl=decoder_p, task=task,
                           num_classes=num_classes, **kwargs)
