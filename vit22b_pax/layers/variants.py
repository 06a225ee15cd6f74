# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The ViT size family as one table, from Ti/16 to ViT-22B/14.

Ti..e follow big_vision's `decode_variant` (Table 2 of arXiv 2106.04560);
22B follows Table 1 of "Scaling Vision Transformers to 22 Billion Parameters"
(Dehghani et al. 2023, arXiv 2302.05442): width 6144, depth 48, MLP 24576,
48 heads of 128.

`encoder_config('22B/14', image_size=224)` builds the fiddle config of a
`ViT22BEncoder` of that size; keyword overrides go to the encoder or, for
block switches (parallel, fused, qk_norm, use_bias, norm_type, ...), to its
`block_tpl`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from praxis import pax_fiddle

from vit22b_pax.layers import encoder as encoder_lib
from vit22b_pax.layers import parallel_block


@dataclasses.dataclass(frozen=True)
class Variant:
  """One row of the size table.

  Attributes:
    name: size name, e.g. 'B' or '22B'.
    model_dims: width D.
    num_layers: depth L.
    hidden_dims: MLP width F.
    num_heads: attention heads N.
    paper_params_m: parameter count reported by the papers, in millions
      (None where no paper reports one).
  """

  name: str
  model_dims: int
  num_layers: int
  hidden_dims: int
  num_heads: int
  paper_params_m: float | None = None

  @property
  def dim_per_head(self) -> int:
    return self.model_dims // self.num_heads


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant('Ti', 192, 12, 768, 3, 5.7),
        Variant('S', 384, 12, 1536, 6, 22.0),
        Variant('B', 768, 12, 3072, 12, 86.0),
        Variant('L', 1024, 24, 4096, 16, 307.0),
        Variant('H', 1280, 32, 5120, 16, 632.0),
        Variant('g', 1408, 40, 6144, 16, 1011.0),
        Variant('G', 1664, 48, 8192, 16, 1843.0),
        Variant('e', 1792, 56, 15360, 16, 3926.0),
        Variant('22B', 6144, 48, 24576, 48, 21743.0),
    )
}

# The patch size each variant is named with in the paper's tables.
DEFAULT_PATCH = {'Ti': 16, 'S': 16, 'B': 16, 'L': 16, 'H': 14, 'g': 14,
                 'G': 14, 'e': 14, '22B': 14}

# Display order of the table (smallest first).
ORDER = tuple(VARIANTS)


def decode_variant(variant: str) -> tuple[Variant, int]:
  """Parses 'B/16', '22B/14' or 'B' into (Variant, patch_size).

  Args:
    variant: size name with an optional '/patch' suffix.

  Returns:
    The table row and the patch size (the suffix, else the paper's default).

  Raises:
    ValueError: unknown size name or a malformed patch size.
  """
  m = re.fullmatch(r'([A-Za-z0-9]+)(?:/(\d+))?', str(variant))
  if m is None or m.group(1) not in VARIANTS:
    raise ValueError(
        f'Unknown ViT variant {variant!r}; expected one of '
        f'{", ".join(f"{k}/{DEFAULT_PATCH[k]}" for k in ORDER)} '
        '(optionally with another /patch size).')
  name, patch = m.group(1), m.group(2)
  patch_size = int(patch) if patch else DEFAULT_PATCH[name]
  if patch_size <= 0:
    raise ValueError(f'Patch size in {variant!r} must be positive, got '
                     f'{patch_size}.')
  return VARIANTS[name], patch_size


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
