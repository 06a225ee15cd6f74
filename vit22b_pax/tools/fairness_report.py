# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Subgroup fairness, calibration and threshold debiasing of model scores.

  # scores.csv: label,group and score (binary P(y=1)) or prob_0..prob_{C-1}
  python -m vit22b_pax.tools.fairness_report --scores scores.csv \
      [--threshold 0.5] [--num_bins 15] [--reliability_plot rel.png] \
      [--debias_target_gap 0.05] [--json report.json]
  # CelebA: scores.csv has image_id,score; labels/groups from the attributes
  python -m vit22b_pax.tools.fairness_report --scores scores.csv \
      --celeba_attr list_attr_celeba.txt --target Smiling --sensitive Male

`--scores` may also be an .npz with arrays `scores`, `labels`, `groups`.
"""

import argparse
import csv
import json
import math
import sys

import numpy as np

from vit22b_pax.eval import calibration
from vit22b_pax.eval import fairness


def _read_csv(path):
  with open(path, newline='') as f:
    reader = csv.DictReader(f)
    rows = list(reader)
    cols = reader.fieldnames or []
  if not rows:
    raise ValueError(f'{path}: no rows')
  return rows, cols


def _float(path, line, col, value):
  try:
    return float(value)
  except (TypeError, ValueError):
    raise ValueError(f'{path}, line {line}: column {col!r} value {value!r} '
                     'is not a number') from None


def load_arrays(args):
  """(scores, labels, groups) from the command-line inputs."""
  if args.celeba_attr:
    if not (args.target and args.sensitive):
      raise ValueError('--celeba_attr needs --target and --sensitive')
    ids, labels, groups = fairness.read_celeba_attributes(
        args.celeba_attr, args.target, args.sensitive)
    rows, cols = _read_csv(args.scores)
    if 'image_id' not in cols or 'score' not in cols:
      raise ValueError(f'{args.scores}: needs columns image_id,score; has '
                       f'{cols}')
    score_of = {r['image_id']: _float(args.scores, i + 2, 'score', r['score'])
                for i, r in enumerate(rows)}
    keep = [i for i, k in enumerate(ids) if k in score_of]
    if not keep:
      raise ValueError(f'{args.scores}: no image_id of {args.celeba_attr}')
    return (np.array([score_of[ids[i]] for i in keep]), labels[keep],
            groups[keep])
  if args.scores.endswith('.npz'):
    d = np.load(args.scores)
    missing = {'scores', 'labels', 'groups'} - set(d.files)
    if missing:
      raise ValueError(f'{args.scores}: missing arrays {sorted(missing)}')
    return d['scores'], d['labels'], d['groups']
  rows, cols = _read_csv(args.scores)
  prob_cols = sorted((c for c in cols if c.startswith('prob_')),
                     key=lambda c: int(c[5:]))
  for c in ('label', 'group'):
    if c not in cols:
      raise ValueError(f'{args.scores}, line 1: missing column {c!r}; has '
                       f'{cols}')
  if 'score' not in cols and not prob_cols:
    raise ValueError(f'{args.scores}, line 1: needs a score column or '
                     f'prob_0..prob_<C-1>; has {cols}')
  use = ['score'] if 'score' in cols else prob_cols
  scores = np.array([[_float(args.scores, i + 2, c, r[c]) for c in use]
                     for i, r in enumerate(rows)])
  labels = np.array([int(_float(args.scores, i + 2, 'label', r['label']))
                     for i, r in enumerate(rows)])
  groups = np.array([r['group'] for r in rows])
  return (scores[:, 0] if use == ['score'] else scores), labels, groups


def _clean(x):
  if isinstance(x, dict):
    return {str(k): _clean(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return [_clean(v) for v in x]
  if isinstance(x, fairness.GroupRule):
    return _clean(x.__dict__)
  if isinstance(x, (float, np.floating)):
    return None if math.isnan(x) else (float(x) if math.isfinite(x) else str(
        x))
  if isinstance(x, np.integer):
    return int(x)
  return x


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--scores', required=True)
  p.add_argument('--celeba_attr', default=None)
  p.add_argument('--target', default=None, help='CelebA target attribute')
  p.add_argument('--sensitive', default=None, help='CelebA sensitive attr.')
  p.add_argument('--threshold', type=float, default=0.5)
  p.add_argument('--num_bins', type=int, default=15)
  p.add_argument('--reliability_plot', default=None)
  p.add_argument('--debias_target_gap', type=float, default=None)
  p.add_argument('--json', default=None)
  args = p.parse_args(argv)
  try:
    scores, labels, groups = load_arrays(args)
    report = {'fairness': fairness.fairness_report(scores, labels, groups,
                                                   args.threshold)}
    if scores.ndim == 1 or np.allclose(scores.sum(1), 1, atol=1e-4):
      report['calibration'] = calibration.expected_calibration_error(
          scores, labels, args.num_bins)
    if args.debias_target_gap is not None:
      report['debias'] = fairness.debias_demographic_parity(
          scores, labels, groups, args.debias_target_gap, args.threshold)
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  f = report['fairness']
  print(f'accuracy {f["accuracy"]:.4f}, worst-group accuracy '
        f'{f["worst_group_accuracy"]:.4f} (group {f["worst_group"]})')
  for g, d in f['groups'].items():
    print(f'  group {g}: ' + ', '.join(f'{k} {v:.4f}' if isinstance(v, float)
                                       else f'{k} {v}' for k, v in d.items()))
  for k in ('demographic_parity_gap', 'tpr_gap', 'fpr_gap',
            'equalized_odds_gap'):
    if k in f:
      print(f'{k}: {f[k]:.4f}')
  if 'calibration' in report:
    c = report['calibration']
    print(f'ECE ({c["num_bins"]} bins): {c["ece"]:.4f}, MCE {c["mce"]:.4f}')
    if args.reliability_plot:
      calibration.plot_reliability_diagram(c, args.reliability_plot)
  if 'debias' in report:
    d = report['debias']
    print(f'debiased to DP gap {d["gap"]:.4f} (target {d["target_gap"]}): '
          f'accuracy {d["accuracy"]:.4f} vs {d["baseline_accuracy"]:.4f} '
          f'(gap {d["baseline_gap"]:.4f}); cost {d["accuracy_cost"]:.4f}')
  if args.json:
    with open(args.json, 'w') as fh:
      json.dump(_clean(report), fh, indent=1)
  return 0


if __name__ == '__main__':
  sys.exit(main())
