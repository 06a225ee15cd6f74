# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Trainable temporal heads over frozen per-frame ViT-22B features.

The image encoder runs on every frame (frames folded into the batch); one of
these heads turns the per-frame outputs into one clip embedding [B, D]:

* `TemporalMAPHead` (INPUT = 'tokens'): attention pooling with one learned
  probe over all frames x tokens. A learned time embedding (one vector per
  frame, shared by the frame's tokens) is added first, so the probe can tell
  frames apart (the encoder's own position embedding is spatial only):

    x[b, t, s] = tokens[b, t, s] + time_emb[t];  MAP(x[b, (t s)]) -> [B, D]

* `TemporalTransformerHead` (INPUT = 'frames'): factorised space-time, as
  ViViT's "factorised encoder" (Arnab et al. 2021): the encoder's pooled
  per-frame embeddings plus the time embedding go through a small stack of
  ViT-22B blocks attending over time only, then a final norm and pooling
  ('mean' over frames or 'map').

Einsum letters: B clips, T frames, S tokens per frame, D model dims.
"""

from __future__ import annotations

from jax import numpy as jnp
from praxis import base_layer
from praxis import pax_fiddle
from praxis import pytypes

from vit22b_pax.layers import map_head
from vit22b_pax.layers import parallel_block

JTensor = pytypes.JTensor
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
WeightHParams = base_layer.WeightHParams
WeightInit = base_layer.WeightInit
template_field = base_layer.template_field

TEMPORAL_POOLINGS = ('mean', 'map')


class _TimeEmbedding(base_layer.BaseLayer):
  """Shared checks and the learned [T, D] time embedding.

  Attributes:
    model_dims: width D.
    num_frames: frames per clip T (the time embedding has T rows).
    num_heads: attention heads (must divide D).
    hidden_dims: MLP hidden dims; 0 = 4 D.
    time_emb_std: init std of the time embedding; 0 = D^-1/2.
  """
  model_dims: int = 0
  num_frames: int = 0
  num_heads: int = 0
  hidden_dims: int = 0
  time_emb_std: float = 0.0

  def _check(self) -> None:
    d, t, n = self.model_dims, self.num_frames, self.num_heads
    if d <= 0 or t <= 0 or n <= 0:
      raise ValueError(f'{type(self).__name__} needs positive model_dims, '
                       f'num_frames and num_heads; got {d}, {t}, {n}.')
    if d % n:
      raise ValueError(f'{type(self).__name__}: num_heads={n} must divide '
                       f'model_dims={d}.')

  def _create_time_emb(self) -> None:
    self.create_variable('time_emb', WeightHParams(
        shape=[self.num_frames, self.model_dims],
        init=WeightInit.Gaussian(self.time_emb_std or self.model_dims**-0.5),
        mesh_shape=self.mesh_shape,
        tensor_split_dims_mapping=None if self.mesh_shape is None else
        (-1, -1)))

  def _check_input(self, x: JTensor, rank: int, what: str) -> None:
    if x.ndim != rank or x.shape[1] != self.num_frames or (
        x.shape[-1] != self.model_dims):
      raise ValueError(
          f'{type(self).__name__} expects {what} with T={self.num_frames} '
          f'frames and D={self.model_dims}, got shape {tuple(x.shape)}.')


class TemporalMAPHead(_TimeEmbedding):
  """Attention pooling over all frames x tokens (one learned probe).

  Attributes:
    map_head_tpl: MAPHead template (model_dims / num_heads / hidden_dims are
      filled in).
  """
  INPUT = 'tokens'
  map_head_tpl: LayerTpl = template_field(map_head.MAPHead)

  def setup(self) -> None:
    self._check()
    self._create_time_emb()
    head = self.map_head_tpl.clone()
    head.model_dims = self.model_dims
    head.num_heads = self.num_heads
    head.hidden_dims = self.hidden_dims
    self.create_child('pool', head)

  def __call__(self, tokens: JTensor) -> JTensor:
    """Pools a clip.

    Args:
      tokens: [B, T, S, D] encoder tokens of every frame.

    Returns:
      [B, D].
    """
    self._check_input(tokens, 4, 'tokens [B, T, S, D]')
    b, t, s, d = tokens.shape
    x = tokens + self.theta.time_emb.astype(tokens.dtype)[None, :, None, :]
    return self.pool(x.reshape(b, t * s, d))


class TemporalTransformerHead(_TimeEmbedding):
  """Transformer over per-frame embeddings (factorised space-time).

  Attributes:
    num_layers: temporal blocks L (>= 1).
    pooling: 'mean' over frames or 'map' (attention pooling).
    norm_type: final norm ('rmsnorm' or 'layernorm').
    block_tpl: ViT22BBlock template (dims filled in).
    map_head_tpl: MAPHead template for pooling='map'.
  """
  INPUT = 'frames'
  num_layers: int = 1
  pooling: str = 'mean'
  norm_type: str = 'rmsnorm'
  block_tpl: LayerTpl = template_field(parallel_block.ViT22BBlock)
  map_head_tpl: LayerTpl = template_field(map_head.MAPHead)

  def setup(self) -> None:
    self._check()
    if self.num_layers < 1:
      raise ValueError(f'num_layers={self.num_layers} must be >= 1.')
    if self.pooling not in TEMPORAL_POOLINGS:
      raise ValueError(f'Unknown pooling {self.pooling!r}; expected one of '
                       f'{TEMPORAL_POOLINGS}.')
    self._create_time_emb()
    d = self.model_dims
    f = self.hidden_dims or 4 * d
    blocks = []
    for _ in range(self.num_layers):
      block = self.block_tpl.clone()
      block.model_dims, block.num_heads, block.hidden_dims = (
          d, self.num_heads, f)
      blocks.append(block)
    self.create_children('blocks', blocks)
    self.create_child('norm', parallel_block.norm_config(
        self.norm_type, d, 'norm'))
    if self.pooling == 'map':
      head = self.map_head_tpl.clone()
      head.model_dims, head.num_heads, head.hidden_dims = (
          d, self.num_heads, f)
      self.create_child('pool', head)

  def __call__(self, frames: JTensor) -> JTensor:
    """Encodes a clip.

    Args:
      frames: [B, T, D] per-frame embeddings.

    Returns:
      [B, D].
    """
    self._check_input(frames, 3, 'frame embeddings [B, T, D]')
    x = frames + self.theta.time_emb.astype(frames.dtype)[None]
    for block in self.blocks:
      x = block(x)
    x = self.norm(x)
    if self.pooling == 'map':
      return self.pool(x)
    return jnp.mean(x, axis=1)
