# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Parameter and FLOP counts of an encoder config, and MFU.

The one implementation of both counts: every caller (MFU summaries, the
model table, the benchmark, the scale plan, the shape-bias-vs-size script)
derives them from a `pax_fiddle.Config[ViT22BEncoder]`, honouring its
switches (fused / unfused, parallel / sequential, use_bias, qk_norm, norm
type and bias, pooling, CLS token). Block parameters come from
`vit22b_pax.core.block` (the block's own parameter specs); a test checks
every count against abstract initialisation.

FLOPs are counted as the ViT-22B paper counts them (Dehghani et al. 2023,
§3 / Table 1: 54.9% MFU), with PaLM's definition (Chowdhery et al. 2022,
appendix B): per token a training step (forward + backward, no
rematerialisation) costs

    6 N + 12 L D T   FLOPs,

N the parameters applied to every token (each: 2 FLOPs forward, 4 backward),
L layers, D width, T the sequence length (QK^T and PV: 2 * 2 L D T forward,
twice that backward). Recomputation from remat is *not* model FLOPs. For a
ViT, N = blocks + patch embedding (a matmul) + final norm; the position
embedding and CLS token are additions, not counted. Per image the head adds:
MAP pooling (k / v projections of every token, one probe query's attention:
12 D T, the probe path and MLP once) and the classifier (6 D K). Forward only
is a third of everything.
"""

from __future__ import annotations

import dataclasses
from praxis import pax_fiddle

from vit22b_pax.core import block as core_block
from vit22b_pax.layers import encoder as encoder_lib

EncoderConfig = pax_fiddle.Config[encoder_lib.ViT22BEncoder]

flops_per_token = core_block.train_flops_per_token


def block_config(encoder_p: EncoderConfig) -> core_block.BlockConfig:
  """The `core.block.BlockConfig` of an encoder config's blocks."""
  b = encoder_p.block_tpl
  act = getattr(b, 'activation_tpl', None)
  return core_block.BlockConfig(
      model_dims=encoder_p.model_dims, num_heads=encoder_p.num_heads,
      hidden_dims=encoder_p.hidden_dims, parallel=b.parallel, fused=b.fused,
      qk_norm=b.qk_norm, use_bias=tuple(b.use_bias), norm_type=b.norm_type,
      qk_norm_type=b.qk_norm_type, norm_bias=b.norm_bias,
      gelu_approximate=getattr(act, 'approximate', True))


def _map_head_counts(encoder_p: EncoderConfig) -> tuple[int, int]:
  """(params applied to every token, params applied once) of the MAP head."""
  h = encoder_p.map_head_tpl
  d = encoder_p.model_dims
  f = h.hidden_dims or encoder_p.hidden_dims or 4 * d
  bias = 1 if h.use_bias else 0
  norm_bias = h.norm_bias and h.norm_type == 'layernorm'
  per_token = 2 * (d * d + bias * d)              # w_k, w_v (+ b_k, b_v)
  once = (d                                        # probe
          + 2 * (d * d + bias * d)                 # w_q, w_out (+ biases)
          + d + (d if norm_bias else 0)            # norm
          + d * f + f * d + bias * (f + d))        # MLP
  return per_token, once


def encoder_param_counts(encoder_p: EncoderConfig) -> dict[str, int]:
  """Parameter counts of an encoder config, by part.

  Returns:
    {'block': one block, 'blocks': all blocks, 'stem': patch embedding
     kernel + bias, 'posemb': position embedding, 'cls': CLS token,
     'encoder_norm': final norm, 'map_head': MAP head (0 unless
     pooling='map'), 'encoder': everything but the MAP head (the papers'
     convention), 'total': all}.
  """
  d, p, c = encoder_p.model_dims, encoder_p.patch_size, encoder_p.num_channels
  if encoder_p.num_layers <= 0:
    raise ValueError(f'num_layers must be positive, got '
                     f'{encoder_p.num_layers}.')
  block = core_block.param_count(block_config(encoder_p))
  gh, gw = encoder_p.pos_emb_grid
  norm_type = encoder_p.norm_type or encoder_p.block_tpl.norm_type
  norm_bias = (encoder_p.block_tpl.norm_bias if encoder_p.norm_bias is None
               else encoder_p.norm_bias)
  if norm_bias and norm_type != 'layernorm':
    raise ValueError(f'Final norm bias needs layernorm, got {norm_type!r}.')
  counts = dict(
      block=block, blocks=encoder_p.num_layers * block,
      stem=p * p * c * d + d, posemb=gh * gw * d,
      cls=d if encoder_p.cls_token else 0,
      encoder_norm=d * (2 if norm_bias else 1),
      map_head=(sum(_map_head_counts(encoder_p))
                if encoder_p.pooling == 'map' else 0))
  counts['encoder'] = (counts['blocks'] + counts['stem'] + counts['posemb']
                       + counts['cls'] + counts['encoder_norm'])
  counts['total'] = counts['encoder'] + counts['map_head']
  return counts


@dataclasses.dataclass(frozen=True)
class FlopsCount:
  """Model FLOPs of one image, by the paper's count.

  Attributes:
    image_size: input side in pixels.
    tokens: sequence length T (patches, plus the CLS token).
    num_params: all parameters, classifier included.
    per_token: training FLOPs per token in the encoder, 6 N + 12 L D T.
    head_per_image: training FLOPs of pooling + classifier per image.
    per_image: training FLOPs per image (per_token * T + head).
    forward_per_image: forward FLOPs per image (a third of per_image).
  """

  image_size: int
  tokens: int
  num_params: int
  per_token: float
  head_per_image: float
  per_image: float
  forward_per_image: float


def encoder_flops(encoder_p: EncoderConfig, image_size: int,
                  num_classes: int = 0) -> FlopsCount:
  """Training and forward FLOPs per image of an encoder + classifier.

  Args:
    encoder_p: the encoder config.
    image_size: square input side; a multiple of the patch size.
    num_classes: classifier outputs (0: no classifier).

  Returns:
    A `FlopsCount`.
  """
  p = encoder_p.patch_size
  if image_size <= 0 or image_size % p:
    raise ValueError(f'image_size must be a positive multiple of the patch '
                     f'size {p}, got {image_size}.')
  if num_classes < 0:
    raise ValueError(f'num_classes must be >= 0, got {num_classes}.')
  counts = encoder_param_counts(encoder_p)
  d, depth = encoder_p.model_dims, encoder_p.num_layers
  tokens = (image_size // p)**2 + int(encoder_p.cls_token)
  n_tok = counts['blocks'] + counts['stem'] + counts['encoder_norm']
  per_token = flops_per_token(n_tok, depth, d, tokens)
  head = 0.0
  if encoder_p.pooling == 'map':
    per_tok, once = _map_head_counts(encoder_p)
    head += 6.0 * (per_tok * tokens + once - d) + 12.0 * d * tokens
  classifier = d * num_classes + num_classes
  head += 6.0 * classifier
  per_image = per_token * tokens + head
  return FlopsCount(image_size=image_size, tokens=tokens,
                    num_params=counts['total'] + classifier,
                    per_token=per_token, head_per_image=head,
                    per_image=per_image, forward_per_image=per_image / 3)


def mfu(model_flops_per_sec: float, peak_flops: float) -> float:
  """Model FLOPs utilisation: achieved model FLOP/s over peak FLOP/s."""
  if not peak_flops > 0:
    raise ValueError(f'peak_flops must be > 0, got {peak_flops}.')
  return model_flops_per_sec / peak_flops


def mfu_from_tokens(tokens_per_sec: float, per_token_flops: float,
                    peak_flops: float) -> float:
  """MFU from a per-chip token rate (the paper's 1.15k tokens/s form)."""
  return mfu(tokens_per_sec * per_token_flops, peak_flops)
