# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Distillation gain over seeds: distilled student vs the same student from
scratch vs the teacher.

  python -m vit22b_pax.tools.distill_gain --teacher runs/pretrain \
      --steps 3000 --seeds 0,1,2 --out runs/distill_gain \
      --json docs/distill_gain.json

For every seed it runs two recipes for the same steps, learning rate, data
seed and student initialisation:

  fiddle_configs.distill.distill(size='tiny', pretrain_dir=<teacher>, ...)
  fiddle_configs.distill.distill(size='tiny', from_scratch=True, ...)

The distilled student matches the teacher's function (KL at T=1) on the same
augmented batch the teacher sees (inception crop, flip, mixup: applied once
by the input); the from-scratch student trains on the labels of the same
batches. Each is evaluated on the held-out `test` split of its seed (the
split's images depend on the data seed); the teacher is evaluated on exactly
the same images inside the distillation job (`Metrics/teacher_accuracy`).

Reported: per seed the three accuracies and the paired gain (distilled minus
scratch, same seed), and over seeds mean, sample standard deviation and
min..max of each, plus the paired gain's standard error (std / sqrt(n)) next
to the binomial standard error of one accuracy on the eval split, so a gain
can be read against both kinds of noise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
from typing import Mapping, Sequence

from fiddle_configs import distill
from vit22b_pax.tools import runs

ACCURACY = ('eval_test_test', 'Metrics/accuracy')
TEACHER_ACCURACY = ('eval_test_test', 'Metrics/teacher_accuracy')


def parse_seeds(text: str) -> list[int]:
  """'0,1,2' -> [0, 1, 2] (distinct non-negative integers, at least 2)."""
  try:
    seeds = [int(v) for v in text.split(',') if v.strip()]
  except ValueError:
    raise ValueError(f'--seeds must be comma-separated integers, got '
                     f'{text!r}.') from None
  if len(set(seeds)) < 2 or any(s < 0 for s in seeds):
    raise ValueError(f'--seeds needs at least 2 distinct non-negative seeds '
                     f'(a spread needs two), got {text!r}.')
  return sorted(set(seeds))


def binomial_se(accuracy: float, examples: int) -> float:
  """Standard error of one accuracy measured on `examples` images."""
  if examples <= 0:
    raise ValueError(f'examples must be > 0, got {examples}.')
  return math.sqrt(max(accuracy * (1 - accuracy), 0.0) / examples)


def summarize(rows: Sequence[Mapping], eval_examples: int) -> dict:
  """Over-seed statistics of `rows` (one per seed with 'distilled',
  'scratch' and 'teacher' test accuracies)."""
  if not rows:
    raise ValueError('summarize() needs at least one seed row.')
  out = {key: runs.stats([r[key] for r in rows])
         for key in ('teacher', 'distilled', 'scratch')}
  gain = runs.stats([r['distilled'] - r['scratch'] for r in rows])
  gain['se'] = gain['std'] / math.sqrt(gain['n'])
  out['gain'] = gain
  out['eval_examples'] = eval_examples
  out['binomial_se'] = binomial_se(out['distilled']['mean'], eval_examples)
  # The gain is "beyond the noise" when it exceeds twice both the seed-to-
  # seed standard error of the paired gain and the sampling error of a
  # difference of two accuracies on the eval split.
  noise = max(gain['se'], math.sqrt(2) * out['binomial_se'])
  out['gain_over_noise'] = gain['mean'] / noise if noise > 0 else None
  out['beyond_noise'] = bool(noise > 0 and gain['mean'] > 2 * noise)
  return out


def _pm(s: Mapping) -> str:
  return (f"{s['mean']:.3f} ± {s['std']:.3f} "
          f"({s['min']:.3f}..{s['max']:.3f})")


def markdown(rows: Sequence[Mapping], summary: Mapping, args) -> str:
  lines = [
      'Measured with `.venv/bin/python -m vit22b_pax.tools.distill_gain '
      '--steps '
      f'{args.steps} --seeds {",".join(str(s) for s in args.seeds)} '
      f'--learning_rate {args.learning_rate:g}` on {platform.machine()} CPU '
      f'({os.cpu_count()} cores, shared), float32; test split of '
      f'{summary["eval_examples"]} images per seed.', '',
      '| seed | teacher | distilled student | student from scratch | '
      'gain (paired) |', '|---|---|---|---|---|']
  for r in rows:
    lines.append(f"| {r['seed']} | {r['teacher']:.3f} | {r['distilled']:.3f}"
                 f" | {r['scratch']:.3f} | {r['distilled'] - r['scratch']:+.3f}"
                 ' |')
  g = summary['gain']
  lines.append(f"| mean ± std (min..max) | {_pm(summary['teacher'])} | "
               f"{_pm(summary['distilled'])} | {_pm(summary['scratch'])} | "
               f"{g['mean']:+.3f} ± {g['std']:.3f} |")
  lines += ['', f"Paired gain {g['mean']:+.3f}, standard error over "
            f"{g['n']} seeds {g['se']:.3f}; binomial standard error of one "
            f"accuracy on {summary['eval_examples']} images "
            f"{summary['binomial_se']:.3f}. Gain beyond 2x the larger noise: "
            f"{'yes' if summary['beyond_noise'] else 'no'}."]
  return '\n'.join(lines) + '\n'


def _curve(job: str, key) -> dict[str, float]:
  return {str(s): v for s, v in sorted(runs.scalars(job, *key).items())}


def run_seed(args, seed: int) -> dict:
  common = dict(size='tiny', steps=args.steps,
                learning_rate=args.learning_rate, seed=seed)
  overrides = [f'task.train.eval_interval_steps={args.eval_every}',
               f'eval_datasets[0].num_examples={args.eval_examples}']
  row = {'seed': seed, 'commands': {}, 'seconds': {}, 'curves': {}}
  for arm, call in (
      ('distilled', runs.recipe_call(distill.distill,
                                     pretrain_dir=args.teacher, **common)),
      ('scratch', runs.recipe_call(distill.distill, from_scratch=True,
                                   **common))):
    job = os.path.join(args.out, f'{arm}_s{seed}')
    result = runs.run_job(call, job, overrides, timeout=args.timeout)
    if not result.ok:
      raise SystemExit(f'{job} failed:\n{result.output[-4000:]}')
    row['commands'][arm] = ' '.join(result.command[1:])
    row['seconds'][arm] = round(result.seconds)
    row['curves'][arm] = _curve(job, ACCURACY)
    row[arm] = runs.last_scalar(job, *ACCURACY)
    if arm == 'distilled':
      row['curves']['teacher'] = _curve(job, TEACHER_ACCURACY)
      row['teacher'] = runs.last_scalar(job, *TEACHER_ACCURACY)
  return row


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--teacher', required=True,
                      help="the teacher's pretraining job_log_dir")
  parser.add_argument('--steps', type=int, default=3000)
  parser.add_argument('--seeds', default='0,1,2')
  parser.add_argument('--learning_rate', type=float, default=1e-3)
  parser.add_argument('--eval_every', type=int, default=1000)
  parser.add_argument('--eval_examples', type=int, default=2048)
  parser.add_argument('--timeout', type=int, default=7200)
  parser.add_argument('--out', default='runs/distill_gain')
  parser.add_argument('--json', default=None, help='also write the JSON here')
  parser.add_argument('--from_json', default=None,
                      help='re-render the table from a previous JSON')
  args = parser.parse_args(argv)
  try:
    args.seeds = parse_seeds(args.seeds)
    for name in ('steps', 'eval_every', 'eval_examples', 'timeout'):
      if getattr(args, name) <= 0:
        raise ValueError(f'--{name} must be > 0, got {getattr(args, name)}.')
    if not (math.isfinite(args.learning_rate) and args.learning_rate > 0):
      raise ValueError(f'--learning_rate must be positive, got '
                       f'{args.learning_rate}.')
    if not args.from_json and not os.path.isdir(
        os.path.join(args.teacher, 'checkpoints')):
      raise ValueError(f'--teacher {args.teacher!r} has no checkpoints/ '
                       '(pretrain it first).')
  except ValueError as e:
    parser.error(str(e))
  data = runs.start_output(args.out, args.from_json)
  if data:
    rows = data['rows']
    for key, value in data['args'].items():
      setattr(args, key, value)
  else:
    rows = [run_seed(args, seed) for seed in args.seeds]
  summary = summarize(rows, args.eval_examples)
  table = markdown(rows, summary, args)
  data = dict(args=dict(steps=args.steps, seeds=args.seeds,
                        learning_rate=args.learning_rate,
                        eval_every=args.eval_every,
                        eval_examples=args.eval_examples,
                        teacher=args.teacher),
              machine=f'{platform.machine()} CPU, {os.cpu_count()} cores',
              summary=summary, rows=rows)
  for path in filter(None, (os.path.join(args.out, 'distill_gain.json'),
                            args.json)):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
      json.dump(data, f, indent=1)
  with open(os.path.join(args.out, 'distill_gain.md'), 'w') as f:
    f.write(table)
  print(table)
  return 0


if __name__ == '__main__':
  sys.exit(main())
