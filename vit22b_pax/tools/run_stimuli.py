# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Runs a trained Pax experiment on cue-conflict stimuli; shape bias.

  python -m vit22b_pax.tools.run_stimuli \
      --exp=vit22b_pax.experiments.pretrain.ProceduralTiny \
      --job_log_dir=runs/pretrain --stimuli ../shared/data/cue-conflict \
      --out runs/pretrain/cue_conflict_responses.csv \
      [--humans ../shared/data/human-responses] [--plot shape_bias.png]

Restores the checkpoint (`--step`, default the newest intact one, through
`runtime.restore.load`; "[run_stimuli] restored step N of <dir>" on stderr),
classifies every
stimulus (resized to the model's resolution; a 1000-way head is mapped to the
16 categories, a 16-way head is used directly), writes a model-vs-human
responses CSV and prints the analysis of `vit22b_pax.tools.model_vs_human`.
"""

import argparse
import json
import sys

from vit22b_pax.eval import model_vs_human as mvh
from vit22b_pax.runtime import experiment as experiment_lib
from vit22b_pax.runtime import restore
from vit22b_pax.eval import stimuli
from vit22b_pax.tools import model_vs_human as mvh_cli


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--exp', required=True,
                 help='registered experiment (package.module.ClassName) or '
                 'recipe call, e.g. "fiddle_configs.pretrain.pretrain('
                 'size=\'tiny\')"')
  p.add_argument('--job_log_dir', required=True)
  p.add_argument('--step', type=int, default=None,
                 help='default: the newest intact checkpoint')
  p.add_argument('--stimuli', required=True, help='cue-conflict directory')
  p.add_argument('--out', required=True, help='responses CSV to write')
  p.add_argument('--model_name', default=None,
                 help='subj column (default: experiment class name)')
  p.add_argument('--image_size', type=int, default=None)
  p.add_argument('--batch_size', type=int, default=32)
  p.add_argument('--humans', nargs='*', default=None,
                 help='human response CSVs/directories to compare with')
  p.add_argument('--json', help='write the analysis to this JSON file')
  p.add_argument('--plot', help='write the per-category shape-bias figure')
  args = p.parse_args(argv)
  try:
    exp = experiment_lib.resolve(args.exp)
    predict_fn, info = restore.restore_predict_fn(
        exp, args.job_log_dir, step=args.step, image_size=args.image_size)
    restore.report(info['restored'], 'run_stimuli')
    if info['num_classes'] not in (16, 1000):
      raise ValueError(
          f'the model has {info["num_classes"]} classes; cue-conflict needs '
          'a 16-way head (sorted categories) or a 1000-way ImageNet head')
    name = args.model_name or type(exp).__name__
    stimuli.run_stimuli(predict_fn, args.stimuli, args.out, name,
                        resolution=info['image_size'],
                        batch_size=args.batch_size)
    observers = mvh.read_responses(args.out)
    humans = mvh.read_responses(args.humans) if args.humans else None
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  print(f'restored step {info["step"]} from {info["checkpoint_dir"]}; '
        f'responses: {args.out}')
  result = mvh.analyse(observers, humans)
  print(mvh.format_report(result))
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(mvh_cli.clean(result), f, indent=1)
  if args.plot:
    mvh.plot_shape_bias(result, args.plot)
  return 0


if __name__ == '__main__':
  sys.exit(main())
