# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Shape bias and error consistency of cue-conflict responses.

  python -m vit22b_pax.tools.model_vs_human \
      --responses ../shared/data/human-responses [model.csv ...] \
      [--humans DIR] [--json out.json] [--plot shape_bias.png]

Prints per observer: trials, accuracy, shape bias and, against the human
observers (`--humans`, default: the responses whose subj is 'subject-*'),
accuracy difference, observed consistency and error consistency (kappa);
then the human group and the per-category shape bias.
"""

import argparse
import json
import math
import sys

from vit22b_pax.eval import model_vs_human as mvh


def clean(x):
  """NaN -> None for strict JSON."""
  if isinstance(x, dict):
    return {k: clean(v) for k, v in x.items()}
  if isinstance(x, float) and math.isnan(x):
    return None
  return x


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--responses', nargs='+', required=True,
                 help='response CSV files or directories of them')
  p.add_argument('--humans', nargs='*', default=None,
                 help='human response CSVs/directories (reference observers)')
  p.add_argument('--json', help='write all metrics to this JSON file')
  p.add_argument('--plot', help='write the per-category shape-bias figure')
  p.add_argument('--individual_humans', action='store_true',
                 help='plot every human observer, not only the group')
  args = p.parse_args(argv)
  try:
    observers = mvh.read_responses(args.responses)
    humans = mvh.read_responses(args.humans) if args.humans else None
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  result = mvh.analyse(observers, humans)
  print(mvh.format_report(result))
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(clean(result), f, indent=1)
  if args.plot:
    mvh.plot_shape_bias(result, args.plot, args.individual_humans)
  return 0


if __name__ == '__main__':
  sys.exit(main())
