# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""QK-norm learning-rate sweep, as the small-scale proxy study does it.

Wortsman et al. 2023 ("Small-scale proxies for large-scale Transformer
training instabilities", arXiv 2309.14322) reproduce the attention-logit
divergence of large Transformers in small ones by sweeping the learning rate
over orders of magnitude (warm-up, then cosine decay) and plotting final loss
against learning rate, with and without qk-layernorm; they summarise a curve
by its *LR sensitivity*

  LR sensitivity = mean over the swept rates eta of
                   min(loss(eta), loss_0) - min over eta of loss(eta)

(loss_0: the loss of the initial model; a run that diverged or ended worse
than it counts as loss_0), i.e. the expected loss increase over the LR range
relative to the best rate. This tool does the same here:

  python -m vit22b_pax.tools.qknorm_sweep --out runs/qknorm \
      --lrs 1e-4,3e-4,1e-3,3e-3,1e-2,3e-2,0.1,0.3,1 \
      --optimizers adafactor,adamw --steps 1000 --schedule cosine \
      --json docs/qknorm_sweep.json --plot docs/qknorm_sweep.png

Every (learning rate, optimizer, QK-norm on/off, seed) is one job
(`runs.run_job`, one at a time) of the recipe

  fiddle_configs.ablations.qk_norm_stability(qk_norm=..., learning_rate=...,
      steps=..., seed=..., optimizer=..., schedule=..., summary_every=...)

in <out>/runs/<optimizer>_<qk>_lr<lr>_s<seed>. From its train summaries
(`runs.read_all`) it takes:

  final loss   mean of the logged train losses of the last FINAL_FRACTION of
               the steps (each one batch of fresh procedural images: the
               stream never repeats, so these are held-out estimates);
  max logit    per summary step, the maximum attention logit over layers;
  entropy      per summary step, the minimum over layers of the mean
               attention entropy (nats; log(16) = 2.77 is uniform over the 16
               tokens).

What a summary value means: the value computed on the batch of that step,
with the weights before its update. paxml writes the step's own value (its
SummaryHandler averages only when `summary_accumulate_interval_steps` is set,
and the recipe keeps it off), so the value at a step does not depend on the
summary interval. (Eval summaries of the same tags are different quantities:
paxml averages them over the eval batches.)

Writes qknorm_sweep.{json,md,png} (final loss vs learning rate per model, LR
sensitivity) and qknorm_logits.png (max-logit trajectories and peak max logit
vs learning rate) to --out (and --json / --plot copies). The JSON is written
after every run, so an interrupted sweep keeps what it measured; each run's
row is also kept in its job directory, and running the same command again
reuses finished runs and trains only the missing ones. Runs go in
`run_order`: whole decades first, then the rates between them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import sys
from typing import Mapping, Sequence

from fiddle_configs import ablations
from vit22b_pax.tools import runs as runs_lib

VARIANTS = ('on', 'off')
FINAL_FRACTION = 0.1
# The proxy study's LR range for its sensitivity numbers.
PROXY_RANGE = (3e-4, 3e-1)
NUM_CLASSES = 8
# Per-layer summaries of unrolled blocks ('network/blocks_3/...') and of
# scanned ones ('network/blocks/block/..._3': praxis unstacks them per layer).
_LAYER = r'^network/(?:blocks_\d+/{0}|blocks/block/{0}_\d+)(?:_scalar)?$'
_LOGIT = re.compile(_LAYER.format('max_attention_logit'))
_ENTROPY = re.compile(_LAYER.format('attention_entropy'))
SUMMARY_DEFINITION = (
    'train summaries: the value on the batch of that step (weights before '
    'its update), not averaged over the summary interval '
    '(summary_accumulate_interval_steps=None)')


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
  parser.add_argument('--lrs', default='1e-4,3e-4,1e-3,3e-3,1e-2,3e-2,0.1,'
                      '0.3,1', help='comma-separated peak learning rates')
  parser.add_argument('--optimizers', default='adafactor,adamw')
  parser.add_argument('--seeds', default='0', help='comma-separated seeds')
  parser.add_argument('--steps', type=int, default=1000)
  parser.add_argument('--schedule', default='cosine',
                      choices=ablations.SCHEDULES)
  parser.add_argument('--warmup', type=float, default=0.05,
                      help='cosine warm-up fraction of the steps')
  parser.add_argument('--summary_every', type=int, default=10)
  parser.add_argument('--width', type=int, default=64)
  parser.add_argument('--depth', type=int, default=2)
  parser.add_argument('--heads', type=int, default=1)
  parser.add_argument('--out', required=True, help='output folder')
  parser.add_argument('--json', default=None, help='also write the JSON here')
  parser.add_argument('--plot', default=None,
                      help='also write the loss-vs-LR plot here (the logit '
                           'plot goes next to it as *_logits.png)')
  parser.add_argument('--timeout', type=int, default=1800,
                      help='seconds per run')
  parser.add_argument('--from_json', default=None,
                      help='re-render table and plots from a previous '
                           'qknorm_sweep.json instead of training')
  args = parser.parse_args(argv)
  args.lrs = _floats(args.lrs, 'lrs')
  for lr in args.lrs:
    if not (math.isfinite(lr) and lr > 0):
      raise ValueError(f'--lrs must be positive and finite, got {lr!r}.')
  args.lrs = sorted(set(args.lrs))
  args.optimizers = [o for o in args.optimizers.split(',') if o]
  for opt in args.optimizers:
    if opt not in ablations.OPTIMIZERS:
      raise ValueError(f'--optimizers: unknown {opt!r}; expected some of '
                       f'{sorted(ablations.OPTIMIZERS)}.')
  if not args.optimizers or len(set(args.optimizers)) != len(args.optimizers):
    raise ValueError(f'--optimizers must be distinct names, got '
                     f'{args.optimizers}.')
  seeds = _floats(args.seeds, 'seeds')
  if any(s != int(s) or s < 0 for s in seeds):
    raise ValueError(f'--seeds must be non-negative integers, got '
                     f'{args.seeds!r}.')
  args.seeds = sorted({int(s) for s in seeds})
  if args.summary_every < 1:
    raise ValueError(f'--summary_every must be >= 1, got '
                     f'{args.summary_every}.')
  if args.steps < 10 * args.summary_every:
    raise ValueError(f'--steps must be >= 10 summaries '
                     f'({10 * args.summary_every}), got {args.steps}.')
  if args.timeout <= 0:
    raise ValueError(f'--timeout must be > 0, got {args.timeout}.')
  if not 0 <= args.warmup < 1:
    raise ValueError(f'--warmup must be in [0, 1), got {args.warmup}.')
  return args


# -- Runs ---------------------------------------------------------------------
RECORD_FILE = 'sweep_record.json'


def run_order(lrs: Sequence[float]) -> list[float]:
  """Whole decades first (1e-4, 1e-3, ..., 1), then the rates between them,
  each group ascending: a sweep stopped early still spans the whole range."""
  def between(lr):
    exponent = math.log10(lr)
    return abs(exponent - round(exponent)) > 1e-6
  return sorted(lrs, key=lambda lr: (between(lr), lr))


def model_name(optimizer: str, variant: str) -> str:
  return f'{optimizer}, QK-norm {variant}'


def run_name(optimizer: str, variant: str, lr: float, seed: int) -> str:
  return f'{optimizer}_{variant}_lr{lr:g}_s{seed}'


def experiment(optimizer: str, variant: str, lr: float, seed: int,
               args) -> str:
  """The recipe call of one run."""
  if variant not in VARIANTS:
    raise ValueError(f'variant must be one of {VARIANTS}, got {variant!r}.')
  return runs_lib.recipe_call(
      ablations.qk_norm_stability, qk_norm=variant == 'on', learning_rate=lr,
      steps=args.steps, seed=seed, optimizer=optimizer,
      schedule=args.schedule, warmup=args.warmup, width=args.width,
      depth=args.depth, heads=args.heads, summary_every=args.summary_every)


def initial_loss(num_classes: int = NUM_CLASSES) -> float:
  """Loss of the initial model: the zero-initialised sigmoid head with bias
  -log(K - 1) gives every class probability 1/K, for any image, so the
  summed sigmoid cross-entropy is log K + (K - 1) log(K / (K - 1))."""
  k = num_classes
  return math.log(k) + (k - 1) * math.log(k / (k - 1))


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


def final_loss(loss: Mapping[int, float], steps: int) -> float | None:
  """Mean of the logged losses at steps > (1 - FINAL_FRACTION) * steps;
  None if the run did not log that far. Non-finite values make it NaN."""
  start = steps * (1 - FINAL_FRACTION)
  values = [loss[s] for s in sorted(loss) if s > start]
  if not values:
    return None
  return sum(values) / len(values)


def capped_loss(run: Mapping, l0: float) -> float:
  """min(final loss, loss_0); a run that stopped early, lacks a final loss
  or ended non-finite counts as loss_0 (the proxy study's convention)."""
  value = run.get('final_loss')
  if not run.get('finished') or value is None or not math.isfinite(value):
    return l0
  return min(value, l0)


def lr_sensitivity(losses: Mapping[float, float], l0: float,
                   lr_range: tuple[float, float] | None = None) -> dict:
  """Wortsman et al.'s LR sensitivity of one model.

  Args:
    losses: {learning rate: capped final loss} (see `capped_loss`).
    l0: loss of the initial model.
    lr_range: (low, high) inclusive; None = every rate in `losses`.

  Returns:
    {'value': mean(min(loss, l0)) - min(loss), 'best_lr', 'best_loss',
     'lrs': the rates used}; value None when no rate is in the range.
  """
  lrs = sorted(lr for lr in losses
               if lr_range is None or
               lr_range[0] * (1 - 1e-9) <= lr <= lr_range[1] * (1 + 1e-9))
  if not lrs:
    return {'value': None, 'best_lr': None, 'best_loss': None, 'lrs': []}
  capped = [min(losses[lr], l0) for lr in lrs]
  best = min(capped)
  return {'value': sum(capped) / len(capped) - best,
          'best_lr': lrs[capped.index(best)], 'best_loss': best, 'lrs': lrs}


def record(optimizer, variant, lr, seed, finished, summaries, seconds, cmd,
           steps, error=''):
  """One run's row from its train summaries."""
  c = curves(summaries)

  def last(series):
    return series[max(series)] if series else None

  finite_logits = [v for v in c['max_logit'].values() if math.isfinite(v)]
  return {
      'optimizer': optimizer, 'variant': variant, 'lr': lr, 'seed': seed,
      'finished': finished,
      'last_step': max(c['loss']) if c['loss'] else 0,
      'final_loss': final_loss(c['loss'], steps),
      'final_max_logit': last(c['max_logit']),
      'peak_max_logit': max(finite_logits, default=None),
      'final_entropy': last(c['entropy']),
      'min_entropy': min(c['entropy'].values(), default=None),
      'seconds': round(seconds, 1), 'error': error, 'command': ' '.join(cmd),
      'curves': {k: {str(s): v for s, v in sorted(series.items())}
                 for k, series in c.items()},
  }


def summarize(runs: Sequence[Mapping], l0: float) -> dict:
  """Per model (optimizer x QK-norm): capped final loss per learning rate
  (mean over seeds) and the LR sensitivity over all rates and over the
  proxy study's range."""
  models = {}
  for r in runs:
    key = model_name(r['optimizer'], r['variant'])
    models.setdefault(key, {}).setdefault(r['lr'], []).append(
        capped_loss(r, l0))
  out = {}
  for key, by_lr in models.items():
    losses = {lr: sum(v) / len(v) for lr, v in by_lr.items()}
    out[key] = {
        'final_loss': {f'{lr:g}': losses[lr] for lr in sorted(losses)},
        'lr_sensitivity': lr_sensitivity(losses, l0),
        'lr_sensitivity_proxy_range': lr_sensitivity(losses, l0,
                                                     PROXY_RANGE),
    }
  return out


def _fmt(value, spec='.3f') -> str:
  if value is None:
    return '-'
  return format(value, spec)


def markdown(runs: Sequence[Mapping], summary: Mapping, l0: float) -> str:
  """Final loss and peak max logit per learning rate and model, then the
  LR sensitivity of each model."""
  models = list(summary)
  lrs = sorted({r['lr'] for r in runs})
  by = {(model_name(r['optimizer'], r['variant']), r['lr']): r
        for r in sorted(runs, key=lambda r: r['seed'], reverse=True)}

  def cell(model, lr):
    r = by.get((model, lr))
    if r is None:
      return '-'
    if not r['finished']:
      return f"stopped @ {r['last_step']}"
    mark = '' if capped_loss(r, l0) < l0 else ' (≥ loss_0)'
    return f"{_fmt(r['final_loss'])}{mark}"

  lines = [f'Final train loss (mean of the last {FINAL_FRACTION:.0%} of '
           f'steps; loss of the initial model loss_0 = {l0:.3f}):', '',
           '| LR | ' + ' | '.join(models) + ' |',
           '|---|' + '---|' * len(models)]
  for lr in lrs:
    lines.append(f'| {lr:g} | ' + ' | '.join(cell(m, lr) for m in models)
                 + ' |')
  for label, key in (('LR sensitivity, all rates', 'lr_sensitivity'),
                     (f'LR sensitivity, {PROXY_RANGE[0]:g}..'
                      f'{PROXY_RANGE[1]:g}', 'lr_sensitivity_proxy_range')):
    lines.append(f'| **{label}** | ' + ' | '.join(
        f"**{_fmt(summary[m][key]['value'])}**" for m in models) + ' |')
  lines += ['', 'Peak max attention logit (max over layers and logged steps)'
            ' / final minimum attention entropy (nats):', '',
            '| LR | ' + ' | '.join(models) + ' |',
            '|---|' + '---|' * len(models)]
  for lr in lrs:
    cells = []
    for m in models:
      r = by.get((m, lr))
      cells.append('-' if r is None else
                   f"{_fmt(r['peak_max_logit'], '.1f')} / "
                   f"{_fmt(r['final_entropy'], '.2f')}")
    lines.append(f'| {lr:g} | ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines) + '\n'


# -- Plots --------------------------------------------------------------------
def _plt():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def plot_loss_vs_lr(runs: Sequence[Mapping], summary: Mapping, l0: float,
                    path: str) -> None:
  """The proxy study's curve: final loss vs learning rate, one panel per
  optimizer, QK-norm on (solid) vs off (dashed); open markers = stopped or
  no better than loss_0 (drawn at loss_0)."""
  plt = _plt()
  optimizers = list(dict.fromkeys(r['optimizer'] for r in runs))
  fig, axes = plt.subplots(1, len(optimizers), squeeze=False,
                           figsize=(5.2 * len(optimizers), 4.0))
  for ax, opt in zip(axes[0], optimizers):
    for variant, style, color in (('on', 'o-', 'C0'), ('off', 's--', 'C3')):
      name = model_name(opt, variant)
      if name not in summary:
        continue
      losses = {float(k): v for k, v in summary[name]['final_loss'].items()}
      lrs = sorted(losses)
      sens = summary[name]['lr_sensitivity']['value']
      ax.plot(lrs, [losses[lr] for lr in lrs], style, color=color,
              label=f'QK-norm {variant} (LR sensitivity {_fmt(sens)})')
      bad = [lr for lr in lrs if losses[lr] >= l0]
      ax.plot(bad, [l0] * len(bad), 'o', mfc='white', color=color, ms=9)
    ax.axhline(l0, color='grey', ls=':', lw=1, label=f'loss_0 = {l0:.3f}')
    ax.set_xscale('log')
    ax.set_xlabel('peak learning rate')
    ax.set_ylabel('final train loss')
    ax.set_title(opt)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
  fig.suptitle('Final loss vs learning rate (open: diverged or no better '
               'than the initial model)', fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def plot_logits(runs: Sequence[Mapping], path: str) -> None:
  """Per optimizer: max attention logit vs step without and with QK-norm
  (colour = learning rate) and the peak max logit vs learning rate."""
  plt = _plt()
  optimizers = list(dict.fromkeys(r['optimizer'] for r in runs))
  lrs = sorted({r['lr'] for r in runs})
  cmap = plt.get_cmap('viridis', max(len(lrs), 2))
  fig, axes = plt.subplots(len(optimizers), 3, squeeze=False,
                           figsize=(15, 3.8 * len(optimizers)))
  for row, opt in zip(axes, optimizers):
    drawn = []
    for ax, variant in zip(row[:2], ('off', 'on')):
      for r in runs:
        if r['optimizer'] != opt or r['variant'] != variant:
          continue
        series = {int(s): v for s, v in r['curves']['max_logit'].items()
                  if math.isfinite(v) and v > 0}
        if not series:
          continue
        steps = sorted(series)
        ax.plot(steps, [series[s] for s in steps],
                color=cmap(lrs.index(r['lr'])), lw=1.2,
                marker='' if r['finished'] else 'x', markevery=[-1],
                label=f"lr {r['lr']:g}" if r['seed'] == runs[0]['seed']
                else None)
        drawn.append(ax)
      if ax in drawn:
        ax.set_yscale('log')
        ax.legend(fontsize=7, ncol=2)
      ax.set_xlabel('step')
      ax.set_title(f'{opt}, QK-norm {variant}: max attention logit')
      ax.grid(alpha=0.3)
    if row[0] in drawn and row[1] in drawn:  # one scale for off and on
      low = min(row[0].get_ylim()[0], row[1].get_ylim()[0])
      high = max(row[0].get_ylim()[1], row[1].get_ylim()[1])
      for ax in row[:2]:
        ax.set_ylim(low, high)
    for variant, style, color in (('on', 'o-', 'C0'), ('off', 's--', 'C3')):
      part = sorted((r for r in runs if r['optimizer'] == opt and
                     r['variant'] == variant and
                     (r['peak_max_logit'] or 0) > 0), key=lambda r: r['lr'])
      row[2].plot([r['lr'] for r in part],
                  [r['peak_max_logit'] for r in part], style, color=color,
                  label=f'QK-norm {variant}')
      if part:
        row[2].set_xscale('log')
        row[2].set_yscale('log')
    row[2].set_xlabel('peak learning rate')
    row[2].set_title(f'{opt}: peak max attention logit')
    row[2].grid(alpha=0.3)
    row[2].legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def write_outputs(runs: Sequence[Mapping], out: str, args_dict=None,
                  json_copy: str | None = None,
                  plot_copy: str | None = None) -> dict:
  """Writes qknorm_sweep.{json,md,png} and qknorm_logits.png to `out`
  (and copies); returns the summary."""
  os.makedirs(out, exist_ok=True)
  l0 = initial_loss()
  summary = summarize(runs, l0)
  with open(os.path.join(out, 'qknorm_sweep.md'), 'w') as f:
    f.write(markdown(runs, summary, l0))
  data = {'args': args_dict or {},
          'machine': f'{platform.machine()} CPU, {os.cpu_count()} cores',
          'initial_loss': l0, 'final_fraction': FINAL_FRACTION,
          'summary_definition': SUMMARY_DEFINITION,
          'lr_sensitivity_definition':
              'mean over swept LRs of min(final loss, loss_0) - min over LRs'
              ' of the same; stopped or non-finite runs count as loss_0',
          'summary': summary, 'runs': list(runs)}
  path = os.path.join(out, 'qknorm_sweep.json')
  with open(path, 'w') as f:
    json.dump(data, f, indent=1)
  png = os.path.join(out, 'qknorm_sweep.png')
  logits_png = os.path.join(out, 'qknorm_logits.png')
  if runs:
    plot_loss_vs_lr(runs, summary, l0, png)
    plot_logits(runs, logits_png)
  if json_copy:
    shutil.copyfile(path, json_copy)
  if plot_copy and runs:
    shutil.copyfile(png, plot_copy)
    stem, ext = os.path.splitext(plot_copy)
    shutil.copyfile(logits_png, f'{stem}_logits{ext}')
  return summary


def main(argv: Sequence[str] | None = None) -> int:
  args = runs_lib.parse_cli(parse_args, argv)
  if args is None:
    return 2
  if args.from_json:
    with open(args.from_json) as f:
      data = json.load(f)
    summary = write_outputs(data['runs'], args.out, data.get('args'),
                            args.json, args.plot)
    print(markdown(data['runs'], summary, initial_loss()))
    return 0
  args_dict = {k: getattr(args, k) for k in (
      'lrs', 'optimizers', 'seeds', 'steps', 'schedule', 'warmup',
      'summary_every', 'width', 'depth', 'heads')}
  runs = []
  for lr in run_order(args.lrs):
    for optimizer in args.optimizers:
      for seed in args.seeds:
        for variant in VARIANTS:
          job = os.path.join(args.out, 'runs',
                             run_name(optimizer, variant, lr, seed))
          call = experiment(optimizer, variant, lr, seed, args)
          saved = os.path.join(job, RECORD_FILE)
          if os.path.exists(saved):
            with open(saved) as f:
              r = json.load(f)
            if r['command'] != ' '.join(runs_lib.command(call, job)):
              raise SystemExit(f'{job} holds another run ({r["command"]}); '
                               'use another --out.')
            runs.append(r)
            print(f'  reused {job}', flush=True)
            continue
          result = runs_lib.run_job(call, job, timeout=args.timeout)
          summaries = (runs_lib.read_all(job, 'train') if os.path.isdir(
              os.path.join(job, 'summaries', 'train')) else {})
          runs.append(record(optimizer, variant, lr, seed, result.ok,
                             summaries, result.seconds, result.command,
                             args.steps, result.error))
          r = runs[-1]
          with open(saved, 'w') as f:
            json.dump(r, f)
          print(f"  {optimizer} QK {variant} lr {lr:g} seed {seed}: final "
                f"loss {_fmt(r['final_loss'])}, peak max logit "
                f"{_fmt(r['peak_max_logit'], '.1f')}, finished "
                f"{r['finished']} ({r['seconds']} s)", flush=True)
          write_outputs(runs, args.out, args_dict)
  summary = write_outputs(runs, args.out, args_dict, args.json, args.plot)
  print(markdown(runs, summary, initial_loss()))
  print(f'Wrote {args.out}/qknorm_sweep.{{json,md,png}}, qknorm_logits.png')
  return 0


if __name__ == '__main__':
  sys.exit(main())
