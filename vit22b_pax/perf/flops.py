# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Model FLOPs and MFU, counted the way the ViT-22B paper counts them.

ViT-22B (Dehghani et al. 2023, §3 / Table 1) reports 54.9% MFU using PaLM's
definition (Chowdhery et al. 2022, appendix B): per token, a training step
(forward + backward, no rematerialisation) costs

    6 N + 12 L D T   FLOPs,

with N the non-embedding parameters (each weight: 2 FLOPs per token forward,
4 backward), L layers, D width and T the sequence length (the QK^T and PV
matmuls: 2 * 2 L D T forward, twice that backward). Recomputation from remat
is *not* model FLOPs.

For a ViT the "embedding" is a patch matmul, so it is counted like any other
weight (6 P^2 C D per token); the position embedding is an addition and is
not counted. The classification head runs once per image (6 D K). With an
actual parameter count (`num_params=`), N is taken from it instead (that is
what the paper does with its 21.743B).
"""

from __future__ import annotations

import dataclasses

from vit22b_pax.layers import variants as variants_lib


def resolve_variant(variant) -> tuple[variants_lib.Variant, int, str]:
  """'B/16' or a (Variant, patch) pair -> (Variant, patch, display name)."""
  if isinstance(variant, tuple) and len(variant) == 2 and isinstance(
      variant[0], variants_lib.Variant):
    var, patch = variant
    if int(patch) <= 0:
      raise ValueError(f'patch size must be positive, got {patch}.')
    return var, int(patch), f'{var.name}/{patch}'
  var, patch = variants_lib.decode_variant(variant)
  return var, patch, str(variant)


def flops_per_token(num_params: float, num_layers: int, model_dims: int,
                    seq_len: int) -> float:
  """PaLM's training FLOPs per token: 6 N + 12 L D T."""
  for name, value in (('num_params', num_params), ('num_layers', num_layers),
                      ('model_dims', model_dims), ('seq_len', seq_len)):
    if not value > 0:
      raise ValueError(f'{name} must be > 0, got {value!r}.')
  return 6.0 * num_params + 12.0 * num_layers * model_dims * seq_len


def block_params(model_dims: int, hidden_dims: int, num_heads: int,
                 parallel: bool = True) -> int:
  """Parameters of one ViT-22B encoder block.

  QKV without bias (3 D^2), attention output D^2 + D bias, MLP D F + F and
  F D + D with biases, scale-only norms: one (parallel) or two (sequential)
  of size D and the two QK-norm scales of size D/N.
  """
  d, f = model_dims, hidden_dims
  norms = (1 if parallel else 2) * d + 2 * (d // num_heads)
  return 4 * d * d + d + 2 * d * f + f + d + norms


@dataclasses.dataclass(frozen=True)
class FlopsCount:
  """Training FLOPs of one image (forward + backward), by the paper's count.

  Attributes:
    variant: e.g. 'B/16'.
    image_size: input side in pixels.
    tokens: T = (image_size / patch)^2.
    num_params: N used for 6N (encoder blocks + patch embedding + head unless
      given explicitly).
    per_token: 6 N_tok + 12 L D T, N_tok excluding the head.
    per_image: per_token * T + head FLOPs.
    forward_per_image: one third of the weight FLOPs and of the attention
      FLOPs (2 N + 4 L D T per token), for inference rates.
  """

  variant: str
  image_size: int
  tokens: int
  num_params: float
  per_token: float
  per_image: float
  forward_per_image: float


def vit_flops(variant: str, image_size: int = 224, num_classes: int = 1000,
              num_params: float | None = None, channels: int = 3,
              parallel: bool = True) -> FlopsCount:
  """FLOPs per image for a ViT variant.

  Args:
    variant: 'B/16', '22B/14', ... (see `vit22b_pax.layers.variants`), or
      a (Variant, patch) pair for a size outside the table.
    image_size: square input side; must be a multiple of the patch size.
    num_classes: head outputs (0 for no head).
    num_params: actual total parameter count; if given, N = num_params minus
      the head, and the patch embedding is assumed included in it.
    channels: input channels.
    parallel: count the block's norms as parallel (one) or sequential (two);
      only changes N by D per layer.

  Returns:
    A `FlopsCount`.
  """
  var, patch, variant = resolve_variant(variant)
  if image_size <= 0 or image_size % patch:
    raise ValueError(f'image_size must be a positive multiple of the patch '
                     f'size {patch}, got {image_size}.')
  if num_classes < 0:
    raise ValueError(f'num_classes must be >= 0, got {num_classes}.')
  d, depth = var.model_dims, var.num_layers
  tokens = (image_size // patch) ** 2
  head = d * num_classes + num_classes
  if num_params is None:
    stem = patch * patch * channels * d + d
    n_tok = depth * block_params(d, var.hidden_dims, var.num_heads,
                                 parallel) + stem
    total = n_tok + head
  else:
    if num_params <= head:
      raise ValueError(f'num_params={num_params} is not larger than the head '
                       f'({head} parameters).')
    total = float(num_params)
    n_tok = total - head
  per_token = flops_per_token(n_tok, depth, d, tokens)
  per_image = per_token * tokens + 6.0 * head
  forward = (2.0 * n_tok + 4.0 * depth * d * tokens) * tokens + 2.0 * head
  return FlopsCount(variant=variant, image_size=image_size, tokens=tokens,
                    num_params=total, per_token=per_token,
                    per_image=per_image, forward_per_image=forward)


def mfu(model_flops_per_sec: float, peak_flops: float) -> float:
  """Model FLOPs utilisation: achieved model FLOP/s over peak FLOP/s."""
  if not peak_flops > 0:
    raise ValueError(f'peak_flops must be > 0, got {peak_flops}.')
  return model_flops_per_sec / peak_flops


def mfu_from_tokens(tokens_per_sec: float, per_token_flops: float,
                    peak_flops: float) -> float:
  """MFU from a per-chip token rate (the paper's 1.15k tokens/s form)."""
  return mfu(tokens_per_sec * per_token_flops, peak_flops)


def encoder_flops(encoder_p, image_size: int, num_classes: int = 0
                  ) -> FlopsCount:
  """FLOPs per image of a ViT22BEncoder config (+ a head of num_classes)."""
  var = variants_lib.Variant('custom', encoder_p.model_dims,
                             encoder_p.num_layers, encoder_p.hidden_dims,
                             encoder_p.num_heads)
  return vit_flops((var, encoder_p.patch_size), image_size,
                   num_classes=num_classes,
                   parallel=encoder_p.block_tpl.parallel)
