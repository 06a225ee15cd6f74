# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""QK-norm stability sweep: the on/off pair over learning rates and seeds.

  python -m vit22b_pax.tools.qknorm_sweep --lrs 0.003,0.01,0.03 --seeds 0 \
      --steps 200 --out runs/qknorm

For every (learning rate, seed, QK-norm on/off) it runs the recipe

  fiddle_configs.ablations.qk_norm_stability(qk_norm=<on/off>,
      learning_rate=<lr>, steps=<steps>, seed=<seed>)

as one job (`vit22b_pax.tools.runs.run_job`, one at a time) in
<out>/runs/<qk>_lr<lr>_s<seed>, reads its train summaries (loss, and per
layer max attention logit and attention entropy) and writes to --out

  qknorm_sweep.png   loss, max logit (max over layers, log scale) and entropy
                     (min over layers) against steps, QK-norm on vs off;
  qknorm_sweep.md    per-run table + the highest stable learning rate;
  qknorm_sweep.json  the same, machine-readable, with the commands.

A run is *stable* when it finished (the non-finite guard did not stop it)
all its train losses are finite and its final loss (mean of the losses
logged in the last 20% of the steps) is below its initial loss (the first
summary: the experiments log every step, so this is the loss of the
initial weights). A learning rate is stable
for a variant when all its seeds are. Defaults: 6 runs of 200 steps, about
10 minutes on a shared 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from typing import Mapping, Sequence

from fiddle_configs import ablations
from vit22b_pax.tools import runs as runs_lib

VARIANTS = ('on', 'off')
FINAL_FRACTION = 0.2
LOSS_SMOOTHING = 5
_LOGIT = re.compile(r'^network/blocks_(\d+)/max_attention_logit(_scalar)?$')
_ENTROPY = re.compile(r'^network/blocks_(\d+)/attention_entropy(_scalar)?$')


# -- Arguments ----------------------------------------------------------------
def _floats(text: str, what: str) -> list[float]:
  try:
    values = [float(v) for v in text.split(',') if v.strip()]
  except ValueError:
    raise ValueError(f'--{what} must be comma-separated numbers, got '
                     f'{text!r}.') from None
  if not values:
    raise ValueError(f'--{what} is empty.')
  return values


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
  """Parses and validates the command line (ValueError on bad values)."""
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--lrs', default='0.003,0.01,0.03',
                      help='comma-separated peak learning rates')
  parser.add_argument('--seeds', default='0', help='comma-separated seeds')
  parser.add_argument('--steps', type=int, default=200)
  parser.add_argument('--out', required=True, help='output folder')
  parser.add_argument('--timeout', type=int, default=900,
                      help='seconds per run')
  parser.add_argument('--from_json', default=None,
                      help='re-render the table and plot from a previous '
                           'qknorm_sweep.json instead of training')
  args = parser.parse_args(argv)
  args.lrs = _floats(args.lrs, 'lrs')
  for lr in args.lrs:
    if not (math.isfinite(lr) and lr > 0):
      raise ValueError(f'--lrs must be positive and finite, got {lr!r}.')
  args.lrs = sorted(set(args.lrs))
  seeds = _floats(args.seeds, 'seeds')
  if any(s != int(s) or s < 0 for s in seeds):
    raise ValueError(f'--seeds must be non-negative integers, got '
                     f'{args.seeds!r}.')
  args.seeds = sorted({int(s) for s in seeds})
  if args.steps < 10:
    raise ValueError(f'--steps must be >= 10 (two summaries), got '
                     f'{args.steps}.')
  if args.timeout <= 0:
    raise ValueError(f'--timeout must be > 0, got {args.timeout}.')
  return args


# -- Runs ---------------------------------------------------------------------
def run_name(variant: str, lr: float, seed: int) -> str:
  return f'{variant}_lr{lr:g}_s{seed}'


def experiment(variant: str, lr: float, seed: int, steps: int) -> str:
  """The recipe call of one run."""
  if variant not in VARIANTS:
    raise ValueError(f'variant must be one of {VARIANTS}, got {variant!r}.')
  return runs_lib.recipe_call(ablations.qk_norm_stability,
                              qk_norm=variant == 'on', learning_rate=lr,
                              steps=steps, seed=seed)


def curves(summaries: Mapping[str, Mapping[int, float]]) -> dict[str, dict]:
  """Loss, max attention logit (max over layers) and attention entropy (min
  over layers) per step, from `runs.read_all(job, 'train')` output."""
  logit, entropy = {}, {}
  for tag, series in summaries.items():
    for pattern, target, pick in ((_LOGIT, logit, max),
                                  (_ENTROPY, entropy, min)):
      if pattern.match(tag):
        for step, value in series.items():
          target[step] = (value if step not in target
                          else pick(target[step], value))
  return {'loss': dict(summaries.get('loss', {})), 'max_logit': logit,
          'entropy': entropy}


def final_loss(loss: Mapping[int, float]) -> float | None:
  """Mean of the logged losses (after the first) in the last FINAL_FRACTION
  of the steps: one batch's loss is noisy."""
  steps = sorted(loss)[1:]
  if not steps:
    return None
  start = steps[-1] * (1 - FINAL_FRACTION)
  values = [loss[s] for s in steps if s >= start]
  return sum(values) / len(values)


def is_stable(loss: Mapping[int, float], finished: bool) -> bool:
  """Finished, finite throughout, final loss below the initial loss."""
  if not finished or len(loss) < 2:
    return False
  values = [loss[s] for s in sorted(loss)]
  return (all(math.isfinite(v) for v in values) and
          final_loss(loss) < values[0])


def summarize(runs: Sequence[Mapping]) -> dict:
  """Per-variant highest stable learning rate (all seeds stable)."""
  result = {}
  for variant in VARIANTS:
    by_lr = {}
    for r in runs:
      if r['variant'] == variant:
        by_lr.setdefault(r['lr'], []).append(r['stable'])
    stable = [lr for lr, flags in by_lr.items() if flags and all(flags)]
    result[variant] = {
        'lrs': sorted(by_lr),
        'stable_lrs': sorted(stable),
        'highest_stable_lr': max(stable) if stable else None,
    }
  return result


def _fmt(value, spec='.4g') -> str:
  if value is None:
    return '-'
  return format(value, spec)


def markdown(runs: Sequence[Mapping], summary: Mapping) -> str:
  lines = ['| QK-norm | LR | seed | steps run | initial loss | final loss | '
           'final max logit | peak max logit | final min entropy | stable |',
           '|---|---|---|---|---|---|---|---|---|---|']
  for r in sorted(runs, key=lambda r: (r['variant'], r['lr'], r['seed'])):
    lines.append(
        f"| {r['variant']} | {r['lr']:g} | {r['seed']} | {r['last_step']} | "
        f"{_fmt(r['initial_loss'])} | {_fmt(r['final_loss'])} | "
        f"{_fmt(r['final_max_logit'])} | {_fmt(r['peak_max_logit'])} | "
        f"{_fmt(r['final_entropy'])} | {'yes' if r['stable'] else 'NO'} |")
  lines += ['', '| QK-norm | highest stable LR | stable LRs |', '|---|---|---|']
  for variant in VARIANTS:
    s = summary[variant]
    lines.append(f"| {variant} | {_fmt(s['highest_stable_lr'], 'g')} | "
                 f"{', '.join(f'{lr:g}' for lr in s['stable_lrs']) or '-'} |")
  return '\n'.join(lines) + '\n'


def record(variant, lr, seed, finished, summaries, seconds, cmd, error=''):
  """One run's row from its summaries."""
  c = curves(summaries)
  loss = c['loss']
  steps = sorted(loss)

  def last(series):
    return series[max(series)] if series else None

  return {
      'variant': variant, 'lr': lr, 'seed': seed, 'finished': finished,
      'last_step': max(steps) if steps else 0,
      'initial_loss': loss[steps[0]] if steps else None,
      'final_loss': final_loss(loss),
      'final_max_logit': last(c['max_logit']),
      'peak_max_logit': max(c['max_logit'].values(), default=None),
      'final_entropy': last(c['entropy']),
      'stable': is_stable(loss, finished), 'seconds': round(seconds, 1),
      'error': error, 'command': ' '.join(cmd),
      'curves': {k: {str(s): v for s, v in sorted(series.items())}
                 for k, series in c.items()},
  }


def smooth(values: Sequence[float], window: int) -> list[float]:
  """Trailing moving average (shorter at the start)."""
  out = []
  for i in range(len(values)):
    part = values[max(0, i - window + 1):i + 1]
    out.append(sum(part) / len(part))
  return out


def plot(runs: Sequence[Mapping], path: str) -> None:
  """Loss / max logit / entropy against steps; colour = LR, style = QK."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  lrs = sorted({r['lr'] for r in runs})
  cmap = plt.get_cmap('viridis', max(len(lrs), 2))
  fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
  panels = (('loss', f'train loss ({LOSS_SMOOTHING}-summary moving average)',
             'log'),
            ('max_logit', 'max attention logit (max over layers)', 'log'),
            ('entropy', 'attention entropy (min over layers)', 'linear'))
  for ax, (key, title, scale) in zip(axes, panels):
    for r in runs:
      series = {int(s): v for s, v in r['curves'][key].items()
                if math.isfinite(v)}
      if not series:
        continue
      steps = sorted(series)
      values = [series[s] for s in steps]
      if key == 'loss':
        values = smooth(values, LOSS_SMOOTHING)
      ax.plot(steps, values,
              color=cmap(lrs.index(r['lr'])),
              linestyle='-' if r['variant'] == 'on' else '--',
              marker='' if r['finished'] else 'x', markevery=[-1],
              label=f"QK-norm {r['variant']}, lr {r['lr']:g}"
                    if r['seed'] == runs[0]['seed'] else None)
    ax.set_title(title)
    ax.set_xlabel('step')
    if scale == 'log':
      ax.set_yscale('symlog' if key == 'max_logit' else 'log')
  axes[0].legend(fontsize=7)
  fig.suptitle('QK-norm on (solid) vs off (dashed); x = stopped by the '
               'non-finite guard')
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def write_outputs(runs: Sequence[Mapping], out: str, args_dict=None) -> dict:
  """Writes qknorm_sweep.{png,md,json} to `out`; returns the summary."""
  os.makedirs(out, exist_ok=True)
  summary = summarize(runs)
  with open(os.path.join(out, 'qknorm_sweep.md'), 'w') as f:
    f.write(markdown(runs, summary))
  with open(os.path.join(out, 'qknorm_sweep.json'), 'w') as f:
    json.dump({'args': args_dict or {}, 'summary': summary,
               'stable_definition': 'finished, all train losses finite, mean of '
                                    'the losses of the last 20% of steps < '
                                    'loss of the initial weights',
               'runs': list(runs)}, f, indent=1)
  plot(runs, os.path.join(out, 'qknorm_sweep.png'))
  return summary


def main(argv: Sequence[str] | None = None) -> int:
  try:
    args = parse_args(argv)
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  if args.from_json:
    with open(args.from_json) as f:
      data = json.load(f)
    summary = write_outputs(data['runs'], args.out, data.get('args'))
    print(markdown(data['runs'], summary))
    return 0
  runs = []
  for lr in args.lrs:
    for seed in args.seeds:
      for variant in VARIANTS:
        job = os.path.join(args.out, 'runs', run_name(variant, lr, seed))
        result = runs_lib.run_job(experiment(variant, lr, seed, args.steps),
                                  job, timeout=args.timeout)
        summaries = (runs_lib.read_all(job, 'train') if os.path.isdir(
            os.path.join(job, 'summaries', 'train')) else {})
        runs.append(record(variant, lr, seed, result.ok, summaries,
                           result.seconds, result.command, result.error))
        r = runs[-1]
        print(f"  {variant} lr {lr:g} seed {seed}: final loss "
              f"{_fmt(r['final_loss'])}, max logit "
              f"{_fmt(r['final_max_logit'])}, stable {r['stable']} "
              f"({r['seconds']} s)", flush=True)
  summary = write_outputs(runs, args.out, {
      'lrs': args.lrs, 'seeds': args.seeds, 'steps': args.steps})
  print(markdown(runs, summary))
  print(f'Wrote {args.out}/qknorm_sweep.{{png,md,json}}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
