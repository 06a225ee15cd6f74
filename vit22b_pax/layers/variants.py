# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ViT encoder configs of the size family (Ti/16 .. ViT-22B/14).

Ti..e follow big_vision's `decode_variant` (Table 2 of arXiv 2106.04560);
22B follows Table 1 of "Scaling Vision Transformers to 22 Billion Parameters"
(Dehghani et al. 2023, arXiv 2302.05442): width 6144, depth 48, MLP 24576,
48 heads of 128.

`encoder_config('22B/14', image_size=224)` builds the fiddle config of a
`ViT22BEncoder` of that size; keyword overrides go to the encoder or, for
block switches (parallel, fused, qk_norm, use_bias, norm_type, ...), to its
`block_tpl`. The table itself is `vit22b_pax.core.sizes`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from praxis import pax_fiddle

from vit22b_pax.core import sizes
from vit22b_pax.layers import encoder as encoder_lib
from vit22b_pax.layers import parallel_block

Variant = sizes.Variant
VARIANTS = sizes.VARIANTS
DEFAULT_PATCH = sizes.DEFAULT_PATCH
ORDER = sizes.ORDER
decode_variant = sizes.decode_variant


# Overrides routed to the block template rather than the encoder.
_BLOCK_FIELDS = ('parallel', 'fused', 'qk_norm', 'use_bias', 'norm_type',
                 'qk_norm_type', 'norm_bias', 'attention_summaries',
                 'activation_tpl', 'in_einsum_tpl', 'out_einsum_tpl')


def encoder_config(
    variant: str = 'B/16', image_size: int = 224, **overrides: Any
) -> pax_fiddle.Config[encoder_lib.ViT22BEncoder]:
  """The `ViT22BEncoder` config of a size variant.

  Args:
    variant: e.g. 'B/16', '22B/14', 'L' (paper patch size).
    image_size: square training resolution; sets the stored posemb grid.
    **overrides: encoder fields (e.g. num_layers=2, pooling='gap',
      scan=False, remat_policy='save_nothing') or block fields (parallel,
      fused, qk_norm, use_bias, norm_type, qk_norm_type, norm_bias,
      attention_summaries, activation_tpl, in_einsum_tpl, out_einsum_tpl);
      the encoder's final norm follows the block's norm_type and norm_bias.
      parallel=False implies fused=False unless fused is given.

  Returns:
    pax_fiddle.Config[ViT22BEncoder] named 'encoder'.

  Raises:
    ValueError: unknown variant, image size not divisible by the patch
      size, unknown override, or heads not dividing the width.
  """
  v, patch = decode_variant(variant)
  if image_size <= 0 or image_size % patch:
    raise ValueError(f'image_size {image_size} is not divisible by the patch '
                     f'size {patch} of {variant!r}.')
  grid = image_size // patch
  cfg = pax_fiddle.Config(
      encoder_lib.ViT22BEncoder, name='encoder', model_dims=v.model_dims,
      num_layers=v.num_layers, num_heads=v.num_heads,
      hidden_dims=v.hidden_dims, patch_size=patch, pos_emb_grid=(grid, grid))
  if overrides.get('parallel') is False and 'fused' not in overrides:
    overrides['fused'] = False
  block_fields = {f.name for f in dataclasses.fields(
      parallel_block.ViT22BBlock)}
  enc_fields = {f.name for f in dataclasses.fields(encoder_lib.ViT22BEncoder)}
  for key, value in overrides.items():
    if key in _BLOCK_FIELDS and key in block_fields:
      setattr(cfg.block_tpl, key, value)
    elif key in enc_fields:
      setattr(cfg, key, value)
    else:
      raise ValueError(f'Unknown encoder_config override {key!r}; expected '
                       f'an encoder field {sorted(enc_fields)} or a block '
                       f'field {sorted(_BLOCK_FIELDS)}.')
  if cfg.num_heads <= 0 or cfg.model_dims % cfg.num_heads:
    raise ValueError(f'num_heads={cfg.num_heads} does not divide '
                     f'model_dims={cfg.model_dims}.')
  return cfg
