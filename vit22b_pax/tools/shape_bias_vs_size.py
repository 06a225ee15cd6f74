# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Shape bias against model size on the procedural cue-conflict split, with
the data-design control.

The paper's claim (ViT-22B reaches 87% shape bias, larger models are more
shape-biased) at CPU scale: train several sizes of the tiny pretraining
experiment on the same budget (steps, batch, data) and measure the shape bias
of each on the procedural data's cue-conflict split (every image wears
another class's texture).

The control: the procedural label is the shape, and in training the texture
agrees with it with probability `texture_prob`. At 0.8 the shape is the more
predictive cue by construction, so part of any measured shape bias is the
data design. At `texture_prob=1.0` texture and shape are equally predictive
and a preference for shape is the model's own: that column is the main
result, 0.8 the secondary one.

  python -m vit22b_pax.tools.shape_bias_vs_size --out runs/shape_bias \
      --sizes 32x2,64x3,128x4 --texture_probs 1.0,0.8 --seeds 0,1 \
      --steps 1000 --json docs/shape_bias_vs_size.json \
      --plot docs/shape_bias_vs_size.png

Each run is `fiddle_configs.pretrain.pretrain(size='tiny', steps=...,
seed=..., texture_prob=..., model={width, depth, heads = width / 32, MLP
4x})`; seeds change the data and the initialisation. Reported per size and
texture_prob: mean, sample standard deviation and min..max over seeds of the
shape bias (conflict split) and the held-out test accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from typing import Mapping, Sequence

from fiddle_configs import common
from fiddle_configs import pretrain
from vit22b_pax.perf import flops
from vit22b_pax.tools import runs

SHAPE_BIAS = ('eval_test_conflict', 'Metrics/shape_bias')
TEST_ACCURACY = ('eval_test_test', 'Metrics/accuracy')
MAIN_PROB = 1.0


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


def parse_numbers(text: str, what: str, kind=float) -> list:
  """'1.0,0.8' -> [1.0, 0.8] (order kept, duplicates an error)."""
  try:
    values = [kind(v) for v in text.split(',') if v.strip()]
  except ValueError:
    raise ValueError(f'--{what} must be comma-separated numbers, got '
                     f'{text!r}.') from None
  if not values or len(set(values)) != len(values):
    raise ValueError(f'--{what} must be distinct values, got {text!r}.')
  return values


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


def aggregate(rows: Sequence[Mapping]) -> list[dict]:
  """One entry per (size, texture_prob), in the order of first appearance:
  statistics over seeds of shape bias and test accuracy."""
  groups = {}
  for r in rows:
    groups.setdefault((r['size'], r['texture_prob']), []).append(r)
  out = []
  for (size, prob), group in groups.items():
    out.append(dict(size=size, texture_prob=prob, params=group[0]['params'],
                    seeds=[r['seed'] for r in group],
                    shape_bias=runs.stats([r['shape_bias'] for r in group]),
                    test_accuracy=runs.stats(
                        [r['test_accuracy'] for r in group])))
  return out


def _pm(s: Mapping) -> str:
  """Mean ± sample std; a single run says so instead of a spread of 0."""
  if s['n'] == 1:
    return f"{s['mean']:.3f} (1 seed)"
  return f"{s['mean']:.3f} ± {s['std']:.3f}"


def markdown(summary: Sequence[Mapping], probs: Sequence[float]) -> str:
  """Size rows; shape bias and test top-1 per texture_prob (main first)."""
  probs = sorted(probs, key=lambda p: (p != MAIN_PROB, -p))
  by = {(s['size'], s['texture_prob']): s for s in summary}
  sizes = list(dict.fromkeys(s['size'] for s in summary))
  head = ['size', 'encoder params']
  for p in probs:
    tag = f'texture_prob={p:g}' + (' (main)' if p == MAIN_PROB else '')
    head += [f'shape bias, {tag}', f'test top-1, {tag}']
  lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
  for size in sizes:
    cells = [size]
    first = next(s for s in summary if s['size'] == size)
    cells.append(f"{first['params']:,}")
    for p in probs:
      s = by.get((size, p))
      cells += ([_pm(s['shape_bias']), _pm(s['test_accuracy'])] if s
                else ['-', '-'])
    lines.append('| ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines) + '\n'


def plot(summary: Sequence[Mapping], rows: Sequence[Mapping],
         path: str) -> None:
  """Shape bias vs encoder parameters: one line per texture_prob (means with
  min..max bars), every seed as a dot."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(5.6, 3.9))
  probs = sorted({s['texture_prob'] for s in summary},
                 key=lambda p: (p != MAIN_PROB, -p))
  for i, prob in enumerate(probs):
    part = sorted((s for s in summary if s['texture_prob'] == prob),
                  key=lambda s: s['params'])
    x = [s['params'] for s in part]
    y = [s['shape_bias']['mean'] for s in part]
    err = [[s['shape_bias']['mean'] - s['shape_bias']['min'] for s in part],
           [s['shape_bias']['max'] - s['shape_bias']['mean'] for s in part]]
    main = prob == MAIN_PROB
    ax.errorbar(x, y, yerr=err, fmt='o-' if main else 's--', capsize=3,
                color=f'C{i}', lw=2 if main else 1,
                label=f'texture_prob={prob:g}' + (' (main)' if main else ''))
    seeds = [r for r in rows if r['texture_prob'] == prob]
    ax.scatter([r['params'] for r in seeds], [r['shape_bias'] for r in seeds],
               s=10, color=f'C{i}', alpha=0.5)
  for s in summary:
    if s['texture_prob'] == probs[0]:
      ax.annotate(s['size'], (s['params'], s['shape_bias']['mean']),
                  textcoords='offset points', xytext=(4, -12), fontsize=8)
  ax.axhline(0.5, color='grey', lw=0.8, ls=':')
  ax.set_xscale('log')
  ax.set_xlabel('encoder parameters')
  ax.set_ylabel('shape bias (cue-conflict split)')
  ax.set_ylim(0, 1)
  ax.set_title('Procedural cue-conflict: shape bias vs size')
  ax.legend(loc='lower right', fontsize=8)
  ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


RECORD_FILE = 'shape_bias_record.json'


def run_one(args, width: int, depth: int, prob: float, seed: int) -> dict:
  """Trains and evaluates one (size, texture_prob, seed); a finished run's
  row is kept in its job dir and reused when the same command is asked for."""
  job = os.path.join(args.out, f'w{width}_d{depth}_t{prob:g}_s{seed}')
  call = runs.recipe_call(
      pretrain.pretrain, size='tiny', steps=args.steps, seed=seed,
      texture_prob=prob, model=model_overrides(width, depth))
  saved = os.path.join(job, RECORD_FILE)
  if os.path.exists(saved):
    with open(saved) as f:
      row = json.load(f)
    if row['command'] != ' '.join(runs.command(call, job)[1:]):
      raise SystemExit(f'{job} holds another run ({row["command"]}); '
                       'use another --out.')
    return row
  result = runs.run_job(call, job, timeout=args.timeout)
  if not result.ok:
    raise SystemExit(f'{job} failed:\n{result.output[-4000:]}')
  test = runs.read_all(job, TEST_ACCURACY[0])
  row = dict(
      size=f'{width}x{depth}', params=num_params(width, depth),
      texture_prob=prob, seed=seed,
      shape_bias=runs.last_scalar(job, *SHAPE_BIAS),
      test_accuracy=runs.last_scalar(job, *TEST_ACCURACY),
      # Present only when the test split has conflicting images (< 1.0).
      test_shape_bias=(test['Metrics/shape_bias'][max(test['Metrics/shape_bias'])]
                       if 'Metrics/shape_bias' in test else None),
      seconds=round(result.seconds), command=' '.join(result.command[1:]))
  with open(saved, 'w') as f:
    json.dump(row, f)
  return row


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--out', default='runs/shape_bias')
  parser.add_argument('--sizes', default='32x2,64x3,128x4')
  parser.add_argument('--texture_probs', default='1.0,0.8')
  parser.add_argument('--seeds', default='0,1')
  parser.add_argument('--steps', type=int, default=1000)
  parser.add_argument('--timeout', type=int, default=3600)
  parser.add_argument('--json', default=None, help='also write the JSON here')
  parser.add_argument('--plot', default=None)
  parser.add_argument('--from_json', default=None,
                      help='re-render table and plot from a previous JSON')
  args = parser.parse_args(argv)
  try:
    sizes = parse_sizes(args.sizes)
    probs = parse_numbers(args.texture_probs, 'texture_probs')
    seeds = parse_numbers(args.seeds, 'seeds', int)
    if any(not 0 <= p <= 1 for p in probs):
      raise ValueError(f'--texture_probs must lie in [0, 1], got {probs}.')
    if any(s < 0 for s in seeds):
      raise ValueError(f'--seeds must be >= 0, got {seeds}.')
    if args.steps <= 0:
      raise ValueError(f'--steps must be > 0, got {args.steps}.')
  except ValueError as e:
    parser.error(str(e))
  data = runs.start_output(args.out, args.from_json)
  if data:
    rows = data['rows']
    probs = data['args']['texture_probs']
  else:
    rows = []
    # Seeds outermost: a partial sweep already covers every size.
    for seed in seeds:
      for prob in probs:
        for width, depth in sizes:
          rows.append(run_one(args, width, depth, prob, seed))
          print(json.dumps({k: rows[-1][k] for k in (
              'size', 'texture_prob', 'seed', 'shape_bias', 'test_accuracy',
              'seconds')}), flush=True)
    data = dict(args=dict(sizes=args.sizes, texture_probs=probs, seeds=seeds,
                          steps=args.steps),
                machine=f'{platform.machine()} CPU, {os.cpu_count()} cores',
                rows=rows)
  data['summary'] = aggregate(rows)
  table = markdown(data['summary'], probs)
  for path in filter(None, (os.path.join(args.out, 'shape_bias_vs_size.json'),
                            args.json)):
    with open(path, 'w') as f:
      json.dump(data, f, indent=1)
  with open(os.path.join(args.out, 'shape_bias_vs_size.md'), 'w') as f:
    f.write(table)
  print(table)
  if args.plot:
    plot(data['summary'], rows, args.plot)
  return 0


if __name__ == '__main__':
  sys.exit(main())
