# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Shape bias against model size on the procedural cue-conflict split.

The paper's claim (ViT-22B reaches 87% shape bias, larger models are more
shape-biased) at CPU scale: train several sizes of the tiny pretraining
experiment on the same budget (steps, batch, data) and plot the shape bias of
each on the procedural data's cue-conflict split.

  python -m vit22b_pax.tools.shape_bias_vs_size --out runs/shape_bias \
      --sizes 32x2,64x3,128x4 --steps 600 --plot shape_bias_vs_size.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from fiddle_configs import common
from fiddle_configs import pretrain
from vit22b_pax.perf import flops
from vit22b_pax.tools import runs


def parse_sizes(text: str) -> list[tuple[int, int]]:
  """'32x2,64x3' -> [(width, depth), ...] (heads = width / 32, MLP 4x)."""
  sizes = []
  for item in text.split(','):
    try:
      width, depth = (int(v) for v in item.lower().split('x'))
    except ValueError as e:
      raise ValueError(f'Bad size {item!r}: expected WIDTHxDEPTH, e.g. '
                       '64x3.') from e
    if width <= 0 or depth <= 0 or width % 32:
      raise ValueError(f'Bad size {item!r}: width must be a positive '
                       'multiple of 32 (heads of 32 dims) and depth > 0.')
    sizes.append((width, depth))
  if len(sizes) < 3:
    raise ValueError(f'Need at least 3 sizes, got {len(sizes)}: {text!r}.')
  return sizes


def model_overrides(width: int, depth: int) -> dict[str, int]:
  """The tiny recipe's model at width x depth (heads of 32 dims, MLP 4x)."""
  return dict(model_dims=width, num_layers=depth, num_heads=width // 32,
              hidden_dims=4 * width)


def num_params(width: int, depth: int) -> int:
  """Encoder parameters of one size of the tiny recipe, for the x axis.

  The encoder `pretrain(size='tiny', model=...)` builds (patch 8 on 32 px,
  GAP pooling), counted by `perf.flops`.
  """
  scale = common.scale('tiny')
  cfg = common.encoder(scale.variant, scale.image_size,
                       **{**scale.model, **model_overrides(width, depth)})
  return flops.encoder_param_counts(cfg)['encoder']


def plot(rows, path: str) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(5, 3.6))
  x = [r['params'] for r in rows]
  ax.plot(x, [r['shape_bias'] for r in rows], 'o-', label='shape bias')
  ax.plot(x, [r['test_accuracy'] for r in rows], 's--',
          label='test accuracy')
  for r in rows:
    ax.annotate(r['size'], (r['params'], r['shape_bias']),
                textcoords='offset points', xytext=(4, 4), fontsize=8)
  ax.set_xscale('log')
  ax.set_xlabel('encoder parameters')
  ax.set_ylim(0, 1)
  ax.set_title('Procedural cue-conflict: shape bias vs size')
  ax.legend(loc='lower right', fontsize=8)
  ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--out', default='runs/shape_bias')
  parser.add_argument('--sizes', default='32x2,64x3,128x4')
  parser.add_argument('--steps', type=int, default=600)
  parser.add_argument('--plot', default=None)
  args = parser.parse_args(argv)
  try:
    sizes = parse_sizes(args.sizes)
  except ValueError as e:
    parser.error(str(e))
  os.makedirs(args.out, exist_ok=True)
  rows = []
  for width, depth in sizes:
    job = os.path.join(args.out, f'w{width}_d{depth}')
    result = runs.run_job(runs.recipe_call(
        pretrain.pretrain, size='tiny', steps=args.steps,
        model=model_overrides(width, depth)), job)
    if not result.ok:
      raise SystemExit(f'{job} failed:\n{result.output[-4000:]}')
    rows.append(dict(
        size=f'{width}x{depth}', params=num_params(width, depth),
        shape_bias=runs.last_scalar(job, 'eval_test_conflict',
                                    'Metrics/shape_bias'),
        test_accuracy=runs.last_scalar(job, 'eval_test_test',
                                       'Metrics/accuracy'),
        seconds=round(result.seconds)))
  print('| size | params | shape bias | test top-1 |\n|---|---|---|---|')
  for r in rows:
    print(f'| {r["size"]} | {r["params"]:,} | {r["shape_bias"]:.3f} | '
          f'{r["test_accuracy"]:.3f} |')
  with open(os.path.join(args.out, 'shape_bias_vs_size.json'), 'w') as f:
    json.dump(rows, f, indent=1)
  if args.plot:
    plot(rows, args.plot)
  return 0


if __name__ == '__main__':
  sys.exit(main())
