# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""DPT decoder (Ranftl et al. 2021, "Vision Transformers for Dense
Prediction") over four ViT blocks' patch tokens.

  features f0..f3 [B, h, w, D] (shallow to deep)
  reassemble_i: LayerNorm -> 1x1 conv D->C_i -> resample to scale s_i of the
    patch grid, s = (4, 2, 1, 1/2): x4 and x2 by a transposed conv whose
    kernel equals its stride (a linear map to s*s*C_i channels, then
    depth-to-space), x1 as is, 1/2 by a stride-2 3x3 conv -> 3x3 conv
    C_i -> F (no bias)
  fusion (RefineNet-style, deepest first): path = RCU2(path + RCU1(skip)),
    bilinearly resized to the next shallower level's size (the last one to
    twice level 0's), then a 1x1 conv
  head: 3x3 conv F -> F/2, bilinear to (H, W), 3x3 conv F/2 -> head_dims,
    ReLU, 1x1 conv -> K

RCU (residual conv unit): x + conv3x3(relu(conv3x3(relu(x)))). Resizing to
the next level's size (rather than exactly x2) makes any patch grid work,
odd or non-square. The LayerNorm (not in DPT, whose features are already
normalized) puts each raw block output on a fixed scale.

Einsum letters as in `decoders`.
"""

from __future__ import annotations

from typing import Sequence

import jax
from praxis import base_layer
from praxis import pax_fiddle
from praxis import pytypes

from vit22b_pax.layers import decoders

JTensor = pytypes.JTensor
SCALES = (4, 2, 1, 0.5)


class ResidualConvUnit(base_layer.BaseLayer):
  """x + conv(relu(conv(relu(x)))), 3x3 convs with bias.

  Attributes:
    dims: channels F.
  """
  dims: int = 0

  def setup(self) -> None:
    self.create_child('conv1', decoders.conv3x3(self.dims, self.dims))
    self.create_child('conv2', decoders.conv3x3(self.dims, self.dims))

  def __call__(self, x: JTensor) -> JTensor:
    return x + self.conv2(jax.nn.relu(self.conv1(jax.nn.relu(x))))


def _rcu(dims: int) -> pax_fiddle.Config:
  return pax_fiddle.Config(ResidualConvUnit, dims=dims)


class FusionBlock(base_layer.BaseLayer):
  """out = conv1x1(resize(RCU2(path + RCU1(skip)))).

  Attributes:
    dims: channels F.
    with_skip: takes a skip input (all but the deepest block).
  """
  dims: int = 0
  with_skip: bool = True

  def setup(self) -> None:
    if self.with_skip:
      self.create_child('rcu1', _rcu(self.dims))
    self.create_child('rcu2', _rcu(self.dims))
    self.create_child('out', decoders.linear(self.dims, self.dims))

  def __call__(self, path: JTensor, skip: JTensor | None,
               out_hw: Sequence[int]) -> JTensor:
    if self.with_skip:
      path = path + self.rcu1(skip)
    path = decoders.resize_bilinear(self.rcu2(path), out_hw)
    return self.out(path)


class DPTDecoder(decoders.DenseDecoder):
  """Reassemble 4 blocks' tokens at 4 scales, fuse, upsample.

  Attributes:
    reassemble_dims: channels C_i of the four reassembled levels (DPT-Base:
      96, 192, 384, 768).
    fusion_dims: channels F of the fusion path (DPT: 256).
    head_dims: channels of the head's last hidden layer (DPT: 32).
  """
  reassemble_dims: tuple[int, int, int, int] = (96, 192, 384, 768)
  fusion_dims: int = 256
  head_dims: int = 32

  def setup(self) -> None:
    self._check_dims()
    dims = tuple(self.reassemble_dims)
    f = self.fusion_dims
    if len(dims) != 4 or min(dims) <= 0 or f < 2 or self.head_dims <= 0:
      raise ValueError(
          f'reassemble_dims={dims} must be 4 positive ints, fusion_dims={f} '
          f'>= 2 and head_dims={self.head_dims} > 0.')
    d = self.input_dims
    self.create_children('norms', [decoders.layer_norm(d) for _ in dims])
    self.create_children('projs', [decoders.linear(d, c) for c in dims])
    # x4, x2: kernel = stride transposed convs as linear maps + depth2space.
    self.create_children('ups', [decoders.linear(c, int(s * s) * c)
                                 for c, s in zip(dims[:2], SCALES[:2])])
    self.create_child('down', decoders.conv3x3(dims[3], dims[3], stride=2))
    self.create_children('layer_rn', [decoders.conv3x3(c, f, bias=False)
                                      for c in dims])
    self.create_children('fusions', [
        pax_fiddle.Config(FusionBlock, dims=f, with_skip=i < 3)
        for i in range(4)])
    self.create_child('head_conv1', decoders.conv3x3(f, f // 2))
    self.create_child('head_conv2', decoders.conv3x3(f // 2, self.head_dims))
    self.create_child('head_out', decoders.linear(
        self.head_dims, self.num_outputs, bias_init=self.output_bias_init))

  def forward_flops(self, grid_hw, image_hw) -> float:
    """Forward FLOPs of one image (matmuls and convolutions only)."""
    d, f, hd = self.input_dims, self.fusion_dims, self.head_dims
    g = grid_hw[0] * grid_hw[1]
    px = [g * s * s for s in SCALES]  # Pixels of the 4 levels.
    flops = 0.0
    for c, s, p in zip(self.reassemble_dims, SCALES, px):
      flops += 2.0 * g * d * c  # 1x1 projection at the patch grid.
      if s > 1:
        flops += 2.0 * g * c * s * s * c  # Transposed conv (kernel=stride).
      elif s < 1:
        flops += 2.0 * 9 * c * c * p  # Stride-2 conv.
      flops += 2.0 * 9 * c * f * p  # layer_rn.
    rcu = lambda p: 2 * 2.0 * 9 * f * f * p
    out_px = [4 * px[0]] + px[:3]  # Each fusion block's output size.
    for i in range(4):
      flops += rcu(px[i]) * (2 if i < 3 else 1) + 2.0 * f * f * out_px[i]
    image = image_hw[0] * image_hw[1]
    flops += 2.0 * 9 * f * (f // 2) * out_px[0]
    flops += 2.0 * 9 * (f // 2) * hd * image
    return flops + 2.0 * hd * self.num_outputs * image

  def reassemble(self, features: Sequence[JTensor]) -> list[JTensor]:
    """4 x [B, h, w, D] -> [B, s_i h, s_i w, F] for s = (4, 2, 1, 1/2)."""
    levels = []
    for i, x in enumerate(features):
      x = self.projs[i](self.norms[i](x))
      if i < 2:
        x = decoders.depth_to_space(self.ups[i](x), int(SCALES[i]))
      elif i == 3:
        x = self.down(x)
      levels.append(self._shard(self.layer_rn[i](x)))
    return levels

  def __call__(self, features: Sequence[JTensor],
               image_hw: Sequence[int]) -> JTensor:
    """4 x [B, h, w, D] (shallow to deep) -> [B, H, W, K]."""
    decoders.check_features(features, self.input_dims, 4)
    levels = self.reassemble(features)
    h0, w0 = levels[0].shape[1:3]
    sizes = [(2 * h0, 2 * w0)] + [lv.shape[1:3] for lv in levels[:3]]
    path = self.fusions[3](levels[3], None, sizes[3])
    for i in (2, 1, 0):
      path = self._shard(self.fusions[i](path, levels[i], sizes[i]))
    x = self.head_conv1(path)
    x = decoders.resize_bilinear(x, image_hw)
    x = jax.nn.relu(self.head_conv2(x))
    return self._shard(self.head_out(x))
