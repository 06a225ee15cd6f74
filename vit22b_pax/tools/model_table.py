# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Prints the ViT size family: dims, parameter counts and forward GFLOPs.

Parameter counts come from abstract initialisation (`jax.eval_shape` of
`layer.init`: shapes only, no memory), so ViT-22B/14 is counted in seconds.
"Params" is the encoder as the papers count it: patch embedding, position
embedding, blocks and final norm, without the MAP head or a classifier (the
MAP head is listed separately). GFLOPs are forward FLOPs per image
(2 x multiply-accumulates) of that same encoder, weight matmuls plus the
attention QK^T / PV products; norms, softmax and activations are ignored.

  python -m vit22b_pax.tools.model_table [--image_size 224] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any, Sequence

import jax
from jax import numpy as jnp
from praxis import base_layer

from vit22b_pax.layers import parallel_block
from vit22b_pax.layers import variants


def param_counts(variant: str, image_size: int = 224,
                 **overrides: Any) -> dict[str, int]:
  """Parameter counts of an encoder variant from abstract initialisation.

  Args:
    variant: e.g. 'B/16', '22B/14'.
    image_size: resolution (sets the posemb grid).
    **overrides: passed to `variants.encoder_config`.

  Returns:
    {'encoder': params without the MAP head, 'map_head': MAP head params,
     'total': both}.
  """
  cfg = variants.encoder_config(variant, image_size, **overrides)
  layer = base_layer.instantiate(cfg)
  images = jax.ShapeDtypeStruct((1, image_size, image_size, cfg.num_channels),
                                jnp.float32)

  def init(key, x):
    with base_layer.JaxContext.new_context():
      return layer.init(key, x)

  shapes = jax.eval_shape(init, jax.random.PRNGKey(0), images)['params']
  size = lambda tree: sum(math.prod(a.shape)
                          for a in jax.tree_util.tree_leaves(tree))
  head = size(shapes.get('map_head', {}))
  total = size(shapes)
  return {'encoder': total - head, 'map_head': head, 'total': total}


def forward_gflops(variant: str, image_size: int = 224) -> float:
  """Forward GFLOPs (2 x MACs) per image of the encoder without head.

  Args:
    variant: e.g. 'B/16'.
    image_size: square resolution.

  Returns:
    Patch embedding + num_layers blocks, in GFLOPs.
  """
  v, patch = variants.decode_variant(variant)
  tokens = (image_size // patch)**2
  stem = 2 * tokens * patch * patch * 3 * v.model_dims
  blocks = v.num_layers * parallel_block.block_flops(
      v.model_dims, v.hidden_dims, tokens)
  return (stem + blocks) / 1e9


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
      f'{image_size} px, 2 x MACs, encoder without head.')
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
