# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Frozen pretrained vs frozen random vs trained backbone, on dense tasks.

Runs, one after another, the tiny segmentation (linear decoder) and depth
(DPT decoder) recipes of `fiddle_configs.dense` for each backbone
('pretrained', 'random', 'trained') and seed, reads each job's final pooled
eval metrics back from TensorBoard, and writes every job (command, wall and
CPU seconds, load average, metrics) to a JSON file plus a markdown table of
mean and spread (max - min) per backbone:

  python -m vit22b_pax.tools.dense_table --pretrain_dir=runs/pretrain \
      --out_dir=runs/dense --json=docs/dense_table.json \
      --markdown=docs/dense.md

The JSON is rewritten after every job; jobs already in it (same recipe
call, finished) are not rerun, so an interrupted grid resumes.
`--markdown` replaces the section between the `<!-- dense-table -->` and
`<!-- /dense-table -->` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import resource
from typing import Any, Callable, Sequence


from fiddle_configs import dense
from vit22b_pax.tools import runs

BACKBONES = ('pretrained', 'random', 'trained')
_SEG = (('miou', True), ('pixel_accuracy', True))
_DEPTH = (('delta1', True), ('abs_rel', False), ('rmse', False),
          ('log10', False), ('delta2', True), ('delta3', True))
# (name, recipe, decoder, metrics reported (name, higher is better)).
TASKS = (
    ('segmentation', dense.segmentation, 'linear', _SEG),
    ('depth', dense.depth, 'dpt', _DEPTH),
    ('depth_linear', dense.depth, 'linear', _DEPTH),
)
MARKER = 'dense-table'


def job_call(recipe, size: str, backbone: str, seed: int,
             pretrain_dir: str, decoder: str) -> str:
  kwargs = dict(size=size, backbone=backbone, seed=seed, decoder=decoder)
  if backbone != 'random':
    kwargs['pretrain_dir'] = pretrain_dir
  return runs.recipe_call(recipe, **kwargs)


def _cpu_seconds() -> float:
  usage = resource.getrusage(resource.RUSAGE_CHILDREN)
  return usage.ru_utime + usage.ru_stime


def run_grid(pretrain_dir: str, out_dir: str, seeds: Sequence[int],
             size: str = 'tiny', tasks: Sequence[str] = ('segmentation',
                                                         'depth'),
             backbones: Sequence[str] = BACKBONES,
             done: Sequence[dict[str, Any]] = (),
             on_record: Callable[[list[dict[str, Any]]], None] | None = None,
             ) -> list[dict[str, Any]]:
  """Runs every (task, backbone, seed) job; returns one record per job.

  Jobs with a successful record in `done` (same command) are not rerun;
  their records are kept. `on_record`, if given, is called with the records
  so far after each job that ran, so an interrupted grid loses at most the
  job in flight.
  """
  unknown = set(tasks) - {t[0] for t in TASKS}
  if unknown:
    raise ValueError(f'Unknown tasks {sorted(unknown)}; expected some of '
                     f'{[t[0] for t in TASKS]}.')
  records = []
  for task, recipe, decoder, metrics in TASKS:
    if task not in tasks:
      continue
    for backbone in backbones:
      for seed in seeds:
        call = job_call(recipe, size, backbone, seed, pretrain_dir, decoder)
        job = os.path.join(out_dir, f'{task}_{backbone}_s{seed}')
        old = [r for r in done if r.get('ok') and r['task'] == task and
               r['backbone'] == backbone and r['seed'] == seed and
               call in r['command']]
        if old:
          records.append(old[-1])
          continue
        load0, cpu0 = os.getloadavg(), _cpu_seconds()
        result = runs.run_job(call, job)
        record = dict(task=task, decoder=decoder, backbone=backbone,
                      seed=seed, job_log_dir=job,
                      command='python ' + ' '.join(result.command[1:]),
                      ok=result.ok, wall_seconds=round(result.seconds, 1),
                      cpu_seconds=round(_cpu_seconds() - cpu0, 1),
                      loadavg_start=[round(x, 2) for x in load0],
                      loadavg_end=[round(x, 2) for x in os.getloadavg()])
        if result.ok:
          record['metrics'] = {
              name: runs.last_scalar(job, 'eval_test_test',
                                     f'Metrics/{name}')
              for name, _ in metrics}
        else:
          record['error'] = result.error[-2000:]
        records.append(record)
        if on_record:
          on_record(records)
  return records


def _mean_or_dash(records: Sequence[dict[str, Any]], key: str) -> str:
  # Mean over the records that have the value; '-' if none has it (jobs
  # whose record was rebuilt from their logs have no CPU seconds).
  vals = [r[key] for r in records if r.get(key) is not None]
  if not vals:
    return '-'
  text = f'{sum(vals) / len(vals):.0f}'
  return text if len(vals) == len(records) else f'{text} ({len(vals)} of {len(records)})'


def _load_range(records: Sequence[dict[str, Any]]) -> str:
  # Range of the 1-minute load average at the start and end of the jobs.
  vals = [r[k][0] for r in records for k in ('loadavg_start', 'loadavg_end')
          if r.get(k)]
  return f'{min(vals):.1f}-{max(vals):.1f}' if vals else '-'


def summarize(records: Sequence[dict[str, Any]]) -> str:
  """Markdown: per task, mean and spread (max - min over seeds)."""
  lines = []
  for task, _, decoder, metrics in TASKS:
    rows = [r for r in records if r['task'] == task and r.get('ok')]
    if not rows:
      continue
    names = [m for m, _ in metrics]
    title = task.split('_')[0]
    lines += ['', f'**{title}**, {decoder} decoder (mean over seeds, ± '
              'spread = max - min; ↑ higher / ↓ lower is better)', '',
              '| backbone | seeds | ' + ' | '.join(
                  f'{m} {"↑" if up else "↓"}' for m, up in metrics) +
              ' | wall s / job | CPU s / job | load avg |',
              '|---' * (len(names) + 5) + '|']
    for backbone in BACKBONES:
      sel = [r for r in rows if r['backbone'] == backbone]
      if not sel:
        continue
      cells = []
      for m in names:
        vals = [r['metrics'][m] for r in sel]
        cells.append(f'{sum(vals) / len(vals):.4f} ± '
                     f'{max(vals) - min(vals):.4f}')
      wall = sum(r['wall_seconds'] for r in sel) / len(sel)
      lines.append(f'| {backbone} | {len(sel)} | ' + ' | '.join(cells) +
                   f' | {wall:.0f} | {_mean_or_dash(sel, "cpu_seconds")} '
                   f'| {_load_range(sel)} |')
  return '\n'.join(lines).strip() + '\n'


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--pretrain_dir', required=True,
                      help='Tiny pretraining run.')
  parser.add_argument('--out_dir', default='runs/dense',
                      help='Job directories.')
  parser.add_argument('--seeds', default='0,1', help='Seeds, comma-separated.')
  parser.add_argument('--tasks', default='segmentation,depth',
                      help='Tasks, comma-separated.')
  parser.add_argument('--backbones', default=','.join(BACKBONES),
                      help='Backbones, comma-separated.')
  parser.add_argument('--json', default=None,
                      help='Job records: read (jobs already done are not '
                      'rerun) and rewritten after every job.')
  parser.add_argument('--markdown', default=None,
                      help='Replace the table section of this markdown file.')
  args = parser.parse_args(argv)
  done = []
  if args.json and os.path.exists(args.json):
    with open(args.json) as f:
      done = json.load(f)

  def save(records):
    # Keep earlier records of jobs outside this invocation's grid.
    records = list(records) + [r for r in done if r not in records]
    if args.json:
      with open(args.json, 'w') as f:
        json.dump(records, f, indent=1)
    return records

  records = save(run_grid(args.pretrain_dir, args.out_dir,
                          [int(s) for s in args.seeds.split(',')],
                          tasks=args.tasks.split(','),
                          backbones=args.backbones.split(','), done=done,
                          on_record=save))
  table = summarize(records)
  print(table)
  if args.markdown:
    runs.replace_section(args.markdown, MARKER, table)
  return 0


if __name__ == '__main__':
  sys.exit(main())
