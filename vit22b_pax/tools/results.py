# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The workflow results table: pretrain -> probe, distil, LiT, on CPU.

  python -m vit22b_pax.tools.results --out runs/results --readme README.md

Chains real checkpoints: the tiny pretraining run is the linear probe's
backbone, the distillation teacher and the LiT image tower; the student is
also trained from scratch for the same steps as the baseline. Then the same
on Fashion-MNIST (pretraining and probe; skipped when the Debian package is
absent). Writes `results.json`, `results.md`, and the table into the README
between `<!-- RESULTS:workflows -->` markers.

`--distill_json docs/distill_gain.json` takes the two distillation rows from
a `vit22b_pax.tools.distill_gain` run instead (mean ± standard deviation over
its seeds, at its step budget) and skips training the single-seed pair: one
distillation number in the docs, not two.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

from fiddle_configs import distill
from fiddle_configs import finetune
from fiddle_configs import lit
from fiddle_configs import pretrain
from vit22b_pax.tools import runs

call = runs.recipe_call


def _acc(job, program='eval_test_test', tag='Metrics/accuracy'):
  return runs.last_scalar(job, program, tag)


def _row(name, data, result, metric, value, note=''):
  return dict(workflow=name, data=data, metric=metric, value=value,
              seconds=round(result.seconds), ok=result.ok, note=note,
              command=' '.join(result.command[1:]))


def distill_rows(path: str) -> list[dict]:
  """The distilled and from-scratch rows from a distill_gain JSON."""
  with open(path) as f:
    data = json.load(f)
  out = []
  try:
    summary, args, rows = data['summary'], data['args'], data['rows']
    for arm, name in (('distilled', 'distilled student 2x64'),
                      ('scratch', 'same student from scratch')):
      s = summary[arm]
      out.append(dict(
          workflow=name, data='procedural', metric='test top-1',
          value=s['mean'], spread=s['std'], seeds=s['n'],
          seconds=round(sum(r['seconds'][arm] for r in rows) / len(rows)),
          ok=True, note=f"{args['steps']} steps, {s['n']} seeds",
          command=rows[0]['commands'][arm]))
  except (KeyError, TypeError, IndexError, ZeroDivisionError):
    raise ValueError(f'{path!r} is not a distill_gain JSON (needs summary, '
                     'args and per-seed rows of both arms).') from None
  return out


def procedural(out: str, steps: int, warm_steps: int,
               distill_json: str | None = None) -> list[dict]:
  rows = []
  pre = os.path.join(out, 'pretrain')
  r = runs.run_job(call(pretrain.pretrain, size='tiny', steps=steps), pre)
  _check(r)
  rows.append(_row('pretrain (sigmoid)', 'procedural', r, 'test top-1',
                   _acc(pre)))
  rows.append(_row('pretrain (sigmoid)', 'procedural cue-conflict', r,
                   'shape bias', _acc(pre, 'eval_test_conflict',
                                      'Metrics/shape_bias')))
  warm = dict(size='tiny', pretrain_dir=pre, steps=warm_steps)
  jobs = [('linear probe (frozen)', 'probe',
           call(finetune.linear_probe, **warm)),
          ('fine-tune 48 px', 'finetune',
           call(finetune.finetune, image_size=48, **warm))]
  if not distill_json:
    jobs.append(('distilled student 2x64', 'distill',
                 call(distill.distill, **warm)))
  for name, job, exp in jobs:
    job = os.path.join(out, job)
    r = runs.run_job(exp, job)
    _check(r)
    rows.append(_row(name, 'procedural', r, 'test top-1', _acc(job)))
  if distill_json:
    rows += distill_rows(distill_json)
  else:
    job = os.path.join(out, 'student_scratch')
    r = runs.run_job(call(distill.distill, size='tiny', from_scratch=True,
                          steps=warm_steps), job)
    _check(r)
    rows.append(_row('same student from scratch', 'procedural', r,
                     'test top-1', _acc(job)))
  job = os.path.join(out, 'lit')
  r = runs.run_job(call(lit.lit, **warm), job)
  _check(r)
  rows.append(_row('LiT (locked image tower)', 'procedural', r,
                   'zero-shot top-1',
                   _acc(job, tag='Metrics/zeroshot_accuracy')))
  return rows


def fashion_mnist(out: str, steps: int, warm_steps: int) -> list[dict]:
  if not os.path.isdir('/usr/share/datasets/fashion-mnist'):
    print('Fashion-MNIST not installed (apt-get install '
          'dataset-fashion-mnist): skipped.', file=sys.stderr)
    return []
  rows = []
  pre = os.path.join(out, 'fmnist_pretrain')
  r = runs.run_job(call(pretrain.pretrain, size='tiny',
                        data='fashion_mnist', steps=steps), pre)
  _check(r)
  rows.append(_row('pretrain (sigmoid)', 'Fashion-MNIST', r, 'test top-1',
                   _acc(pre)))
  job = os.path.join(out, 'fmnist_probe')
  r = runs.run_job(call(finetune.linear_probe, size='tiny',
                        data='fashion_mnist', pretrain_dir=pre,
                        steps=warm_steps), job)
  _check(r)
  rows.append(_row('linear probe (frozen)', 'Fashion-MNIST', r, 'test top-1',
                   _acc(job)))
  return rows


def _check(result: runs.JobResult) -> None:
  if not result.ok:
    raise SystemExit(f'Job failed ({result.returncode}): '
                     f'{" ".join(result.command)}\n{result.output[-4000:]}')


def _value(row: dict) -> str:
  if row.get('spread') is None:
    return f'{row["value"]:.3f}'
  return (f'{row["value"]:.3f} ± {row["spread"]:.3f} ({row["note"]})')


def markdown(rows: list[dict], args) -> str:
  distill_from = (f' --distill_json {args.distill_json}'
                  if getattr(args, 'distill_json', None) else '')
  lines = [
      'Measured with `.venv/bin/python -m vit22b_pax.tools.results '
      f'--steps {args.steps}'
      f' --warm_steps {args.warm_steps}{distill_from}` on '
      f'{platform.machine()} CPU ({os.cpu_count()} cores), float32; one run '
      'each unless a row gives mean ± standard deviation over seeds.', '',
      '| workflow | data | metric | value | wall s |',
      '|---|---|---|---|---|']
  for r in rows:
    lines.append(f'| {r["workflow"]} | {r["data"]} | {r["metric"]} | '
                 f'{_value(r)} | {r["seconds"]} |')
  return '\n'.join(lines)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--out', default='runs/results')
  parser.add_argument('--steps', type=int, default=600,
                      help='pretraining steps (tiny models)')
  parser.add_argument('--warm_steps', type=int, default=300,
                      help='steps of each warm-started job and the scratch '
                      'student')
  parser.add_argument('--readme', default=None,
                      help='README to update between RESULTS:workflows '
                      'markers')
  parser.add_argument('--skip_fashion_mnist', action='store_true')
  parser.add_argument('--distill_json', default=None,
                      help='distillation rows from this distill_gain JSON '
                           'instead of training the single-seed pair')
  args = parser.parse_args(argv)
  if args.steps <= 0 or args.warm_steps <= 0:
    parser.error(f'--steps and --warm_steps must be positive, got '
                 f'{args.steps} and {args.warm_steps}.')
  if args.distill_json:
    try:
      distill_rows(args.distill_json)  # A bad file stops before any run.
    except (OSError, ValueError) as e:
      parser.error(str(e))
  os.makedirs(args.out, exist_ok=True)
  rows = procedural(args.out, args.steps, args.warm_steps, args.distill_json)
  if not args.skip_fashion_mnist:
    rows += fashion_mnist(args.out, args.steps, args.warm_steps)
  table = markdown(rows, args)
  with open(os.path.join(args.out, 'results.json'), 'w') as f:
    json.dump(rows, f, indent=1)
  with open(os.path.join(args.out, 'results.md'), 'w') as f:
    f.write(table + '\n')
  print(table)
  if args.readme:
    runs.replace_section(args.readme, 'RESULTS:workflows', table)
  return 0


if __name__ == '__main__':
  sys.exit(main())
