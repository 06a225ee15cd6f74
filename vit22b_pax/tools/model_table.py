# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Prints the ViT size family: dims, parameter counts and forward GFLOPs.

Counts come from `vit22b_pax.perf.flops` (derived from each variant's
encoder config; tests check them against abstract initialisation).
"Params" is the encoder as the papers count it: patch embedding, position
embedding, blocks and final norm, without the MAP head or a classifier (the
MAP head is listed separately). GFLOPs are forward FLOPs per image of that
same encoder by the paper's count (2 per parameter per token plus the
attention QK^T / PV products; the position embedding, softmax and
activations are not counted).

  python -m vit22b_pax.tools.model_table [--image_size 224] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Sequence

from vit22b_pax.layers import variants
from vit22b_pax.perf import flops


def param_counts(variant: str, image_size: int = 224,
                 **overrides: Any) -> dict[str, int]:
  """`flops.encoder_param_counts` of a variant's encoder config.

  Args:
    variant: e.g. 'B/16', '22B/14'.
    image_size: resolution (sets the posemb grid).
    **overrides: passed to `variants.encoder_config`.

  Returns:
    The counts by part ('encoder' without the MAP head, 'map_head',
    'total', ...).
  """
  return flops.encoder_param_counts(
      variants.encoder_config(variant, image_size, **overrides))


def forward_gflops(variant: str, image_size: int = 224) -> float:
  """Forward GFLOPs per image of the encoder without head (paper's count).

  Args:
    variant: e.g. 'B/16'.
    image_size: square resolution.

  Returns:
    Patch embedding + blocks + final norm, in GFLOPs.
  """
  count = flops.encoder_flops(variants.encoder_config(variant, image_size),
                              image_size, num_classes=0)
  return count.per_token * count.tokens / 3 / 1e9


def table(image_size: int = 224,
          names: Sequence[str] | None = None) -> list[dict[str, Any]]:
  """One row per variant (paper patch size)."""
  rows = []
  for name in names or variants.ORDER:
    v, patch = variants.decode_variant(name)
    counts = param_counts(f'{v.name}/{patch}', image_size)
    paper = v.paper_params_m
    params_m = counts['encoder'] / 1e6
    rows.append({
        'variant': f'{v.name}/{patch}', 'width': v.model_dims,
        'depth': v.num_layers, 'mlp': v.hidden_dims, 'heads': v.num_heads,
        'patch': patch, 'params_m': round(params_m, 2),
        'map_head_m': round(counts['map_head'] / 1e6, 2),
        'paper_params_m': paper,
        'diff_pct': None if paper is None else round(
            100 * (params_m - paper) / paper, 2),
        'gflops': round(forward_gflops(f'{v.name}/{patch}', image_size), 2),
    })
  return rows


def format_table(rows: list[dict[str, Any]], image_size: int) -> str:
  head = ('| Model | Width | Depth | MLP | Heads | Patch | Params (M) | '
          'MAP head (M) | Paper (M) | Diff | GFLOPs |')
  lines = [head, '|' + '---|' * 11]
  for r in rows:
    diff = '' if r['diff_pct'] is None else f"{r['diff_pct']:+.2f}%"
    paper = '' if r['paper_params_m'] is None else f"{r['paper_params_m']:,}"
    lines.append(
        f"| {r['variant']} | {r['width']} | {r['depth']} | {r['mlp']} | "
        f"{r['heads']} | {r['patch']} | {r['params_m']:,.1f} | "
        f"{r['map_head_m']:,.1f} | {paper} | {diff} | {r['gflops']:,.1f} |")
  lines.append(
      f'Params: encoder (patch + pos embedding, blocks, final norm; default '
      f'ViT-22B block: fused, parallel, QK-norm, RMSNorm, MLP/out biases) '
      f'without MAP head or classifier. GFLOPs: forward per image at '
      f'{image_size} px (2N + 4LDT per token), encoder without head.')
  return '\n'.join(lines)


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--image_size', type=int, default=224)
  parser.add_argument('--variants', nargs='*', default=None,
                      help='subset, e.g. B/16 22B/14 (default: all)')
  parser.add_argument('--json', default=None, help='write the rows here')
  args = parser.parse_args(argv)
  rows = table(args.image_size, args.variants)
  print(format_table(rows, args.image_size))
  if args.json:
    with open(args.json, 'w') as f:
      json.dump({'image_size': args.image_size, 'rows': rows}, f, indent=1)
  return rows


if __name__ == '__main__':
  main()
