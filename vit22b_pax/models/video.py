# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Video classifier: the ViT-22B image encoder per frame + a temporal head.

  video [B, T, H, W, C] --(frames='middle': keep frame T // 2 only)-->
  frames [B*T', H, W, C] --network (ViT22BEncoder, unchanged)-->
    tokens [B*T', S, D]  (head.INPUT == 'tokens': `network.tokens`)
    or pooled [B*T', D]  (head.INPUT == 'frames': `network(...)`)
  --unfold--> [B, T', S, D] or [B, T', D] --temporal_head--> [B, D]
  --softmax (praxis FullSoftmax)--> logits [B, K]

The encoder is the child 'network', as in the image classifier, so a
pretraining checkpoint's 'params/network/...' load into it unchanged. With
`freeze_encoder` its outputs pass through `jax.lax.stop_gradient`; the
experiments also leave its variables out of the learner
(`bprop_variable_inclusion`), so they stay bit-for-bit the checkpoint's.

Metrics are the image classifier's (accuracy, avg_xent, total_loss, ...)
plus, when `num_motions` > 0 and labels are shape * num_motions + motion
(`vit22b_pax.data.video`), `shape_accuracy` and `motion_accuracy`: the
single-frame baseline should keep the first and lose the second.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from praxis import base_layer
from praxis import pax_fiddle
from praxis import py_utils
from praxis.layers import embedding_softmax

from vit22b_pax.layers import temporal
from vit22b_pax.models import classifier
from vit22b_pax.perf import flops

NestedMap = py_utils.NestedMap
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
WeightInit = base_layer.WeightInit
FRAME_MODES = ('all', 'middle')


class VideoClassifier(classifier.ViT22BClassifier):
  """Per-frame image encoder + temporal head + classifier.

  Attributes:
    temporal_head_tpl: a `temporal` head (TemporalMAPHead or
      TemporalTransformerHead); model_dims and num_frames are filled in.
    frames: 'all' frames, or only the 'middle' one (the single-frame
      baseline; the head then sees T' = 1).
    freeze_encoder: stop gradients at the encoder output.
    num_motions: > 0 adds shape_accuracy / motion_accuracy metrics.
    num_frames: frames per input clip T.
  """
  input_field: str = 'video'
  shape_bias_metrics: bool = False
  temporal_head_tpl: LayerTpl = base_layer.template_field(
      temporal.TemporalMAPHead)
  frames: str = 'all'
  freeze_encoder: bool = True
  num_motions: int = 0
  num_frames: int = 8

  @property
  def head_frames(self) -> int:
    return 1 if self.frames == 'middle' else self.num_frames

  def setup(self) -> None:
    if self.frames not in FRAME_MODES:
      raise ValueError(f'Unknown frames={self.frames!r}; expected one of '
                       f'{FRAME_MODES}.')
    if self.num_frames < 1:
      raise ValueError(f'num_frames={self.num_frames} must be >= 1.')
    super().setup()
    head = self.temporal_head_tpl.clone()
    head.model_dims = self.network_tpl.model_dims
    head.num_frames = self.head_frames
    head.num_heads = head.num_heads or self.network_tpl.num_heads
    self.create_child('temporal_head', head)

  def encode_frames(self, video: jnp.ndarray) -> jnp.ndarray:
    """Per-frame encoder outputs in the layout the head takes."""
    if video.ndim != 5 or video.shape[1] != self.num_frames:
      raise ValueError(f'Expected video [B, T={self.num_frames}, H, W, C], '
                       f'got shape {tuple(video.shape)}.')
    if self.frames == 'middle':
      mid = self.num_frames // 2
      video = video[:, mid:mid + 1]
    b, t = video.shape[:2]
    frames = video.reshape((b * t,) + video.shape[2:])
    if self.temporal_head.INPUT == 'tokens':
      x = self.network.tokens(frames)
    else:
      x = self.network(frames)
    x = x.reshape((b, t) + x.shape[1:])
    return jax.lax.stop_gradient(x) if self.freeze_encoder else x

  def flops_per_example(self, image_size: int) -> float:
    """Training FLOPs of one clip by the paper's count: the frozen
    encoder's forward on every used frame, plus forward and backward (3x
    forward) of the temporal head and the classifier.

    Head forward per clip, D = model dims, F = MLP dims, T' frames, S tokens
    per frame, K classes:
      'tokens' (MAP over T'S tokens): keys and values 4 D^2 per token, the
        probe's logits and context 4 D per token, query, output and MLP
        (4 D^2 + 4 D F) once;
      'frames' (temporal transformer, L blocks over T' embeddings): per
        block 2 (4 D^2 + 2 D F) per frame + attention 4 D T'^2, then mean
        pooling (MAP pooling adds as above with S = 1).
    """
    net = self.network_tpl
    t = self.head_frames
    encoder = flops.encoder_flops(net, image_size).forward_per_image * t
    head_p = self.temporal_head_tpl
    d = net.model_dims
    f = head_p.hidden_dims or 4 * d
    probe = 2 * (4 * d * d + 2 * d * f)  # q, out, MLP of one MAP probe.
    if head_p.cls.INPUT == 'tokens':
      tokens = t * (image_size // net.patch_size)**2
      head = (4 * d * d + 4 * d) * tokens + probe
    else:
      layers = head_p.num_layers
      head = layers * (2 * (4 * d * d + 2 * d * f) * t + 4 * d * t * t)
      if head_p.pooling == 'map':
        head += (4 * d * d + 4 * d) * t + probe
    classes = self.softmax_tpl.num_classes
    return float(encoder + 3 * (head + 2 * d * classes))

  def extract_features(self, input_batch: NestedMap) -> jnp.ndarray:
    """Clip embeddings [B, D] (the classifier's input)."""
    return self.temporal_head(self.encode_frames(
        input_batch[self.input_field]))

  def compute_predictions(self, input_batch: NestedMap) -> NestedMap:
    video = input_batch[self.input_field]
    features = self.extract_features(input_batch)
    weights = input_batch.get('eval_sample_weights')
    if weights is None:
      weights = jnp.ones(video.shape[:1], features.dtype)
    out = self.softmax(inputs=features, class_weights=weights[:, None],
                       class_probabilities=input_batch[self.label_field])
    return NestedMap(features=features, softmax_output=out,
                     example_weights=weights)

  def compute_loss(self, predictions: NestedMap,
                   input_batch: NestedMap) -> tuple[NestedMap, dict[str, Any]]:
    metrics, per_example_out = super().compute_loss(predictions, input_batch)
    if self.num_motions > 0:
      pred = jnp.argmax(predictions.softmax_output.logits, axis=-1)
      label = jnp.argmax(input_batch[self.label_field], axis=-1)
      w = predictions.example_weights
      total = jnp.maximum(jnp.sum(w), 1e-9)
      for name, fn in (('shape_accuracy', lambda c: c // self.num_motions),
                       ('motion_accuracy', lambda c: c % self.num_motions)):
        hits = jnp.sum((fn(pred) == fn(label)) * w)
        metrics[name] = (hits / total, jnp.sum(w))
    return metrics, per_example_out


def video_classifier_config(
    network_p: pax_fiddle.Config,
    num_classes: int,
    num_frames: int,
    head: str = 'map',
    frames: str = 'all',
    freeze_encoder: bool = True,
    num_motions: int = 0,
    temporal_layers: int = 1,
) -> pax_fiddle.Config[VideoClassifier]:
  """A VideoClassifier config.

  Args:
    network_p: ViT22BEncoder config (per-frame encoder).
    num_classes: K.
    num_frames: frames per clip T.
    head: 'map' (TemporalMAPHead over frames x tokens) or 'transformer'
      (TemporalTransformerHead over per-frame embeddings).
    frames: 'all' or 'middle' (single-frame baseline).
    freeze_encoder: stop gradients at the encoder output.
    num_motions: > 0: shape/motion accuracy metrics.
    temporal_layers: blocks of the 'transformer' head.

  Returns:
    The model config (softmax cross-entropy, zero-initialised classifier).
  """
  heads = {'map': temporal.TemporalMAPHead,
           'transformer': temporal.TemporalTransformerHead}
  if head not in heads:
    raise ValueError(f'Unknown head={head!r}; expected one of {sorted(heads)}.')
  if frames not in FRAME_MODES:
    raise ValueError(f'Unknown frames={frames!r}; expected one of '
                     f'{FRAME_MODES}.')
  if num_classes < 2:
    raise ValueError(f'num_classes must be >= 2, got {num_classes}.')
  head_p = pax_fiddle.Config(heads[head], name='temporal_head')
  if head == 'transformer':
    head_p.num_layers = temporal_layers
  softmax_p = pax_fiddle.Config(
      embedding_softmax.FullSoftmax, input_dims=network_p.model_dims,
      num_classes=num_classes)
  softmax_p.feed_forward_tpl.linear_tpl.params_init = WeightInit.Constant(0.0)
  return pax_fiddle.Config(
      VideoClassifier, name='video_classifier', network_tpl=network_p,
      softmax_tpl=softmax_p, temporal_head_tpl=head_p, frames=frames,
      freeze_encoder=freeze_encoder, num_motions=num_motions,
      num_frames=num_frames)
