# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Thin dense decoders over ViT patch tokens: linear and progressive.

Every decoder maps a list of block features (`ViT22BEncoder.features`, each
[B, h, w, D] on the patch grid, shallow to deep) and the image size (H, W)
to per-pixel outputs [B, H, W, K] (class logits, or one depth channel).

* `LinearDecoder`: one linear layer per patch token -> K values per patch,
  bilinearly upsampled to pixels (the frozen-feature linear decoder of the
  ViT-22B paper's segmentation evaluation, after Strudel et al.'s
  Segmenter). A LayerNorm first puts the raw block output on a fixed scale.
* `ProgressiveDecoder`: a light multi-level decoder (after SETR's
  progressive upsampling): the deepest feature starts at the patch grid;
  each stage upsamples x2 and adds the next shallower feature's projection,
  then a 3x3 conv + ReLU; a linear head gives K values, bilinearly resized
  to (H, W).

Einsum letters: B batch, h/w rows/columns, D input dims, C hidden channels,
K outputs.
"""

from __future__ import annotations

from typing import Sequence

import jax
from jax import numpy as jnp
from praxis import base_layer
from praxis import pax_fiddle
from praxis import pytypes
from praxis.layers import activations
from praxis.layers import convolutions
from praxis.layers import linears
from praxis.layers import normalizations

JTensor = pytypes.JTensor
SplitDimsMapping = pytypes.SplitDimsMapping


def resize_bilinear(x: JTensor, hw: Sequence[int]) -> JTensor:
  """Half-pixel-centre bilinear resize of [B, h, w, C] to [B, H, W, C]."""
  hw = tuple(int(s) for s in hw)
  if tuple(x.shape[1:3]) == hw:
    return x
  return jax.image.resize(x, (x.shape[0], *hw, x.shape[3]), 'bilinear',
                          antialias=False)


def check_features(features: Sequence[JTensor], input_dims: int,
                   count: int | None = None) -> None:
  """Raises ValueError unless `features` are [B, h, w, input_dims] grids."""
  if not features:
    raise ValueError('Decoder got no features; set the encoder\'s '
                     'feature_layers.')
  if count is not None and len(features) != count:
    raise ValueError(f'Decoder expects {count} feature maps, got '
                     f'{len(features)}.')
  for f in features:
    if f.ndim != 4 or f.shape[-1] != input_dims:
      raise ValueError(f'Decoder features must be [B, h, w, {input_dims}], '
                       f'got {tuple(f.shape)}.')


def layer_norm(dims: int) -> pax_fiddle.Config:
  return pax_fiddle.Config(normalizations.LayerNorm, dim=dims)


def linear(in_dims: int, out_dims: int, relu: bool = False,
           bias_init: float = 0.0) -> pax_fiddle.Config:
  """FeedForward over the last axis (a 1x1 conv), optional ReLU."""
  act = activations.ReLU if relu else activations.Identity
  return pax_fiddle.Config(linears.FeedForward, input_dims=in_dims,
                           output_dims=out_dims, bias_init=bias_init,
                           activation_tpl=pax_fiddle.Config(act))


def conv3x3(in_dims: int, out_dims: int, stride: int = 1,
            bias: bool = True) -> pax_fiddle.Config:
  return pax_fiddle.Config(convolutions.Conv2D,
                           filter_shape=(3, 3, in_dims, out_dims),
                           filter_stride=(stride, stride), bias=bias)


class DenseDecoder(base_layer.BaseLayer):
  """Shared fields of the dense decoders.

  Attributes:
    input_dims: feature width D (the encoder's model_dims).
    num_outputs: outputs K per pixel.
    output_bias_init: initial bias of the K outputs.
  """
  input_dims: int = 0
  num_outputs: int = 0
  output_bias_init: float = 0.0

  class ActivationSharding(base_layer.BaseLayer.ActivationSharding):
    """Activation sharding (mesh axis names per dim).

    Attributes:
      bhwc: feature maps and outputs [B, H, W, C].
    """
    bhwc: SplitDimsMapping = None

  def _check_dims(self) -> None:
    if self.input_dims <= 0 or self.num_outputs <= 0:
      raise ValueError(f'{type(self).__name__}: input_dims and num_outputs '
                       f'must be positive, got {self.input_dims}, '
                       f'{self.num_outputs}.')

  def _shard(self, x: JTensor) -> JTensor:
    return base_layer.maybe_shard(x, self.activation_split_dims_mapping.bhwc,
                                  self.mesh_axis_names)

  def forward_flops(self, grid_hw: Sequence[int],
                    image_hw: Sequence[int]) -> float:
    """Forward FLOPs of one image (2 per multiply-add of the matmuls and
    convolutions; norms, activations and resizes not counted)."""
    raise NotImplementedError


class LinearDecoder(DenseDecoder):
  """LayerNorm + one linear map per patch token, bilinear to pixels.

  Attributes:
    feature_index: which entry of the feature list to decode (-1 = the
      deepest).
    use_norm: LayerNorm (learned scale and bias) before the linear map.
  """
  feature_index: int = -1
  use_norm: bool = True

  def setup(self) -> None:
    self._check_dims()
    if self.use_norm:
      self.create_child('norm', layer_norm(self.input_dims))
    self.create_child('head', linear(self.input_dims, self.num_outputs,
                                     bias_init=self.output_bias_init))

  def __call__(self, features: Sequence[JTensor],
               image_hw: Sequence[int]) -> JTensor:
    """[B, h, w, D] features -> [B, H, W, K]."""
    check_features(features, self.input_dims)
    x = features[self.feature_index]
    if self.use_norm:
      x = self.norm(x)
    return self._shard(resize_bilinear(self.head(x), image_hw))

  def forward_flops(self, grid_hw, image_hw) -> float:
    del image_hw
    return 2.0 * grid_hw[0] * grid_hw[1] * self.input_dims * self.num_outputs


class ProgressiveDecoder(DenseDecoder):
  """Progressive x2 upsampling over several blocks' features.

  Attributes:
    num_features: feature maps F it consumes (F - 1 upsampling stages).
    hidden_dims: channels C of every stage.
  """
  num_features: int = 4
  hidden_dims: int = 64

  def setup(self) -> None:
    self._check_dims()
    if self.num_features < 1 or self.hidden_dims <= 0:
      raise ValueError(f'num_features={self.num_features} and hidden_dims='
                       f'{self.hidden_dims} must be positive.')
    d, c = self.input_dims, self.hidden_dims
    self.create_children('norms', [layer_norm(d)
                                   for _ in range(self.num_features)])
    self.create_children('projs', [linear(d, c)
                                   for _ in range(self.num_features)])
    self.create_children('convs', [conv3x3(c, c)
                                   for _ in range(self.num_features)])
    self.create_child('head', linear(c, self.num_outputs,
                                     bias_init=self.output_bias_init))

  def __call__(self, features: Sequence[JTensor],
               image_hw: Sequence[int]) -> JTensor:
    """F x [B, h, w, D] (shallow to deep) -> [B, H, W, K]."""
    check_features(features, self.input_dims, self.num_features)
    proj = lambda i: self.projs[i](self.norms[i](features[i]))
    last = self.num_features - 1
    x = jax.nn.relu(self.convs[last](proj(last)))
    for i in reversed(range(last)):
      h, w = x.shape[1:3]
      x = resize_bilinear(x, (2 * h, 2 * w))
      x = x + resize_bilinear(proj(i), (2 * h, 2 * w))
      x = self._shard(jax.nn.relu(self.convs[i](x)))
    return self._shard(resize_bilinear(self.head(x), image_hw))

  def forward_flops(self, grid_hw, image_hw) -> float:
    del image_hw
    d, c, n = self.input_dims, self.hidden_dims, self.num_features
    grid = grid_hw[0] * grid_hw[1]
    flops = 2.0 * n * grid * d * c  # Projections at the patch grid.
    pixels = [grid * 4 ** i for i in range(n)]  # Stage resolutions.
    flops += sum(2.0 * 9 * c * c * p for p in pixels)
    return flops + 2.0 * pixels[-1] * c * self.num_outputs


def depth_to_space(x: JTensor, scale: int) -> JTensor:
  """[B, h, w, s*s*C] -> [B, s*h, s*w, C] (a stride-s transposed conv's
  layout when the kernel equals the stride)."""
  b, h, w, c = x.shape
  x = x.reshape(b, h, w, scale, scale, c // (scale * scale))
  x = jnp.transpose(x, (0, 1, 3, 2, 4, 5))
  return x.reshape(b, h * scale, w * scale, c // (scale * scale))
