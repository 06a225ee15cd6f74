# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Locked-image Tuning (LiT, Zhai et al. 2022, arXiv 2111.07991).

A pretrained image classifier is locked and a text tower is trained so that
the L2-normalised embeddings of matching image-caption pairs align:

  z_img = normalize(features(image))            [B, E]  (locked, "LU")
  z_txt = normalize(text(caption_ids))          [B, E]
  logits = t · z_img z_txtᵀ                     [B, B]
  contrastive_loss = mean_i ½(xent(row i) + xent(column i)), target = i

as big_vision's `trainers/proj/image_text/contrastive.py`. The temperature t
is learned as log t (`log_temperature`, initialised to log 10 as LiT's
`temperature_init=10`), so it stays positive.

Children and variables:
  `image`            the classifier (config as `ViT22BClassifier`); only its
                     `network` (images → pre-logits [B, D]) is used. Locked:
                     stop_gradient on its features, eval mode, and the
                     experiment sets
                       learner.bprop_variable_exclusion = [IMAGE_EXCLUSION]
                     (r'.*params/image/.*') and loads it with IMAGE_LOAD_RULE
                     (r'params/image/(.*)' -> 'params/{}').
  `image_projection` optional trainable linear D → E (`image_proj=True`; off by
                     default = the fully locked "LU" setting of LiT).
  `text`             `vit22b_pax.layers.text_tower.TextTower`.
  `log_temperature`  scalar log t.

Zero-shot classification: when the batch carries `class_prompt_ids` ([K, L],
or [K, P, L] for P prompt templates per class whose normalised embeddings are
averaged), `zeroshot_accuracy` compares argmax_k z_img · z_class_kᵀ with
`label`. Batches without `caption_ids` (a classification eval set) report
only the zero-shot metrics.

  python -m paxml.main --exp=vit22b_pax.experiments.lit.<Experiment> \
      --job_log_dir=/tmp/lit
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from praxis import base_layer
from praxis import base_model
from praxis import pax_fiddle
from praxis import py_utils
from praxis import pytypes
from praxis.layers import activations
from praxis.layers import linears

from vit22b_pax.models import losses
from vit22b_pax.models.distillation import eval_mode
from vit22b_pax.perf import flops

NestedMap = py_utils.NestedMap
JTensor = pytypes.JTensor
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
WeightHParams = base_layer.WeightHParams
WeightInit = base_layer.WeightInit
template_field = pax_fiddle.template_field

# Learner regex locking the image tower (`bprop_variable_exclusion`; it does
# not match `params/image_projection/...`), and the `load_rules` entry mapping
# a classifier checkpoint's `params/...` onto it.
IMAGE_EXCLUSION = r'.*params/image/.*'
IMAGE_LOAD_RULE = (r'params/image/(.*)', 'params/{}')


def l2_normalize(x: JTensor, eps: float = 1e-8) -> JTensor:
  """x / ||x|| along the last axis."""
  x = x.astype(jnp.float32)
  return x * jax.lax.rsqrt(jnp.sum(x * x, axis=-1, keepdims=True) + eps)


class LiTModel(base_model.BaseModel):
  """Contrastive image-text model with a locked image tower.

  Attributes:
    image_tpl: locked image classifier config (child `image`); its `network`
      maps images [B, H, W, 3] to pre-logits features [B, D].
    text_tpl: text tower config (child `text`), token ids [B, L] → [B, E].
    image_proj: add a trainable linear projection D → E on top of the locked
      features (child `image_projection`); False = fully locked ("LU").
    image_dims: image feature width D; 0 = `image_tpl.softmax_tpl.input_dims`.
    proj_tpl: template of the image projection (linear with bias).
    temperature_init: initial temperature t (LiT: 10), stored as log t.
    image_do_eval: run the locked tower in eval mode (no dropout / droppath).
    image_field: batch key of the images [B, H, W, 3].
    text_field: batch key of the caption token ids [B, L] (0 = pad).
    label_field: batch key of the int class labels [B] for zero-shot accuracy
      (falls back to argmax of `label_probs` when absent).
    prompt_field: batch key of the class prompt ids [K, L] or [K, P, L].
    zeroshot_prompt_ids: class prompt ids ([K, L] or [K, P, L] nested tuples
      of ints) used when the batch has no `prompt_field`: the zero-shot
      classes are part of the experiment, so every eval batch (and every
      device's shard of it) sees all K of them.
  """

  image_tpl: LayerTpl | None = template_field(None)
  text_tpl: LayerTpl | None = template_field(None)
  image_proj: bool = False
  image_dims: int = 0
  proj_tpl: LayerTpl = template_field(linears.FeedForward)
  temperature_init: float = 10.0
  image_do_eval: bool = True
  image_field: str = 'image'
  text_field: str = 'caption_ids'
  label_field: str = 'label'
  prompt_field: str = 'class_prompt_ids'
  zeroshot_prompt_ids: tuple | None = None

  def _image_dims(self) -> int:
    if self.image_dims:
      return self.image_dims
    softmax_tpl = getattr(self.image_tpl, 'softmax_tpl', None)
    return getattr(softmax_tpl, 'input_dims', 0) or 0

  def setup(self) -> None:
    if self.image_tpl is None or self.text_tpl is None:
      raise ValueError('LiTModel needs image_tpl and text_tpl, got '
                       f'{self.image_tpl!r} and {self.text_tpl!r}.')
    if self.temperature_init <= 0:
      raise ValueError(
          f'temperature_init must be > 0, got {self.temperature_init}.')
    embed_dim = self.text_tpl.embed_dim
    image_dims = self._image_dims()
    if self.image_proj:
      if image_dims <= 0:
        raise ValueError('image_proj=True needs the image feature width: set '
                         'image_dims or image_tpl.softmax_tpl.input_dims.')
      self.create_child('image_projection', self.proj_tpl.clone().set(
          input_dims=image_dims, output_dims=embed_dim, has_bias=True,
          activation_tpl=pax_fiddle.Config(activations.Identity)))
    elif image_dims and image_dims != embed_dim:
      raise ValueError(
          f'image feature dim {image_dims} != text embed_dim {embed_dim}: '
          'set image_proj=True or text_tpl.embed_dim to match.')
    self.create_child('image', self.image_tpl)
    self.create_child('text', self.text_tpl)
    self.create_variable('log_temperature', WeightHParams(
        shape=[], init=WeightInit.Constant(math.log(self.temperature_init))))

  def flops_per_example(self, image_size: int) -> float:
    """Training FLOPs per (image, caption): the locked image tower's forward
    plus the text tower's forward + backward, by the paper's count (6N per
    token for N non-embedding weights, 12 L D T for attention)."""
    image = flops.encoder_flops(self.image_tpl.network_tpl, image_size,
                                self.image_tpl.softmax_tpl.num_classes)
    t = self.text_tpl
    d, f, layers, length = t.model_dims, t.hidden_dims, t.num_layers, t.max_len
    text_n = layers * (4 * d * d + 2 * d * f)
    text = length * flops.flops_per_token(text_n, layers, d, length)
    return image.forward_per_image + text

  def image_embedding(self, images: JTensor) -> JTensor:
    """Locked image features → (projected) L2-normalised [B, E]."""
    if self.image_do_eval:
      with eval_mode():
        features = self.image.network(images)
    else:
      features = self.image.network(images)
    features = jax.lax.stop_gradient(features)  # [B, D]
    if self.image_proj:
      features = self.image_projection(features)
    elif features.shape[-1] != self.text_tpl.embed_dim:
      raise ValueError(
          f'image feature dim {features.shape[-1]} != text embed_dim '
          f'{self.text_tpl.embed_dim}: set image_proj=True.')
    return l2_normalize(features)

  def text_embedding(self, ids: JTensor) -> JTensor:
    """Token ids [..., L] → L2-normalised text embeddings [..., E]."""
    flat = ids.reshape((-1, ids.shape[-1]))
    z = l2_normalize(self.text(flat))
    return z.reshape(ids.shape[:-1] + z.shape[-1:])

  def class_embeddings(self, prompt_ids: JTensor) -> JTensor:
    """Prompt ids [K, L] or [K, P, L] → class embeddings [K, E].

    With P templates per class the normalised prompt embeddings are averaged
    and re-normalised (CLIP / LiT prompt ensembling).
    """
    if prompt_ids.ndim not in (2, 3):
      raise ValueError('class prompt ids must be [K, L] or [K, P, L], got '
                       f'shape {prompt_ids.shape}.')
    z = self.text_embedding(prompt_ids)
    if z.ndim == 3:
      z = l2_normalize(jnp.mean(z, axis=1))
    return z

  def zeroshot_logits(self, images: JTensor, prompt_ids: JTensor) -> JTensor:
    """Zero-shot class scores: cosine similarities [B, K].

    Args:
      images: [B, H, W, 3].
      prompt_ids: [K, L] or [K, P, L] class prompt token ids.

    Returns:
      [B, K] z_img · z_classᵀ (unscaled; argmax = predicted class).
    """
    return jnp.einsum('BE,KE->BK', self.image_embedding(images),
                      self.class_embeddings(prompt_ids))

  def temperature(self) -> JTensor:
    return jnp.exp(self.theta.log_temperature)

  def compute_predictions(self, input_batch: NestedMap) -> NestedMap:
    """Embeds images (and captions / class prompts when present).

    Args:
      input_batch: `image` [B, H, W, 3]; optional `caption_ids` [B, L],
        `class_prompt_ids` [K, L] or [K, P, L], `weight` [B].

    Returns:
      NestedMap(image_emb [B, E], example_weights [B], temperature []) plus
      text_emb [B, E] and logits [B, B] (t-scaled) with captions, and
      zeroshot_logits [B, K] with class prompts.
    """
    images = input_batch[self.image_field]
    b = images.shape[0]
    weights = input_batch.get('weight', jnp.ones([b], jnp.float32))
    if weights.shape != (b,):
      raise ValueError(f'weight must have shape ({b},), got {weights.shape}.')
    image_emb = self.image_embedding(images)
    out = NestedMap(image_emb=image_emb, example_weights=weights,
                    temperature=self.temperature())
    if self.text_field in input_batch:
      text_emb = self.text_embedding(input_batch[self.text_field])
      out.text_emb = text_emb
      out.logits = out.temperature * jnp.einsum(
          'BE,CE->BC', image_emb, text_emb)
    prompt_ids = input_batch.get(self.prompt_field)
    if prompt_ids is None and self.zeroshot_prompt_ids is not None:
      prompt_ids = jnp.asarray(self.zeroshot_prompt_ids, jnp.int32)
    if prompt_ids is not None:
      out.zeroshot_logits = jnp.einsum(
          'BE,KE->BK', image_emb, self.class_embeddings(prompt_ids))
    return out

  def compute_loss(
      self, predictions: NestedMap, input_batch: NestedMap
  ) -> tuple[NestedMap, dict[str, Any]]:
    """Symmetric contrastive loss and retrieval / zero-shot accuracies.

    Args:
      predictions: output of `compute_predictions`.
      input_batch: the batch (`label` or `label_probs` for zero-shot).

    Returns:
      (metrics, per_example_out): WeightedScalars total_loss,
      contrastive_loss, i2t_accuracy, t2i_accuracy (with captions),
      zeroshot_accuracy (with class prompts), temperature.
    """
    weights = predictions.example_weights.astype(jnp.float32)
    metrics = NestedMap(
        temperature=(predictions.temperature, jnp.array(1.0, jnp.float32)))
    per_example_out = NestedMap()
    if 'logits' in predictions:
      loss, i2t, t2i = losses.contrastive_loss(predictions.logits, weights)
      contrastive, total_weight = losses.weighted_mean(loss, weights)
      metrics.update(
          total_loss=(contrastive, total_weight),
          contrastive_loss=(contrastive, total_weight),
          i2t_accuracy=losses.weighted_mean(i2t, weights),
          t2i_accuracy=losses.weighted_mean(t2i, weights),
      )
    if 'zeroshot_logits' in predictions:
      if self.label_field in input_batch:
        labels = input_batch[self.label_field]
      elif 'label_probs' in input_batch:
        labels = jnp.argmax(input_batch.label_probs, axis=-1)
      else:
        raise ValueError(
            f'zero-shot accuracy needs {self.label_field!r} or '
            f"'label_probs' in the batch, got {list(input_batch)}.")
      pred = jnp.argmax(predictions.zeroshot_logits, axis=-1)
      correct = pred == labels.astype(pred.dtype)
      metrics.zeroshot_accuracy = losses.weighted_mean(correct, weights)
      per_example_out.zeroshot_logits = predictions.zeroshot_logits
    if 'total_loss' not in metrics and 'zeroshot_logits' not in predictions:
      raise ValueError(f'LiTModel needs {self.text_field!r} (training) or '
                       f'{self.prompt_field!r} (zero-shot eval) in the batch, '
                       f'got {list(input_batch)}.')
    return metrics, per_example_out
