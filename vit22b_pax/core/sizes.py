# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The ViT size family as one table, from Ti/16 to ViT-22B/14 (no imports).

Ti..e follow big_vision's `decode_variant` (Table 2 of arXiv 2106.04560);
22B follows Table 1 of "Scaling Vision Transformers to 22 Billion Parameters"
(Dehghani et al. 2023, arXiv 2302.05442): width 6144, depth 48, MLP 24576,
48 heads of 128. `vit22b_pax.layers.variants` builds encoder configs from
it; the GPU benchmark reads widths from it without praxis.
"""

from __future__ import annotations

import dataclasses
import re


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
