# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Subgroup fairness metrics and post-hoc threshold debiasing.

On arrays `(scores or probs, labels, groups)`:

* per-subgroup accuracy and worst-group accuracy (any number of classes);
* binary tasks (scores = P(y = 1) thresholded, or 2-class probabilities):
  positive rate, TPR and FPR per group,
  demographic-parity gap  = max_g P(yhat=1 | g) - min_g P(yhat=1 | g),
  equalised-odds gap      = max(TPR gap, FPR gap) over groups.
  A group with no positives has an undefined TPR (no negatives: undefined
  FPR): it is left out of that gap term with a warning, and the term is NaN
  when fewer than two groups define it.
* `debias_demographic_parity`: per-group randomized thresholds on binary
  scores that meet a target demographic-parity gap while maximising
  accuracy (in expectation), in the spirit of the randomized threshold
  optimizer of Alabdulmohsin & Lucic (2021) used in the ViT-22B paper's
  fairness study, solved exactly on the training scores: a group's
  classifier "top fraction r_g by score, randomizing inside the boundary tie
  block" has the best accuracy among rules with positive rate r_g, its
  accuracy is piecewise-linear in r_g, and the rates are searched over a band
  [c, c + target] that contains every r_g.

Adapters: `procedural_arrays` (examples with `label`, `subgroup`, e.g.
`vit22b_pax.data.procedural`) and `read_celeba_attributes`
(`list_attr_celeba.txt`).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Mapping

import numpy as np


def _arrays(scores, labels, groups):
  scores = np.asarray(scores, np.float64)
  labels = np.asarray(labels)
  groups = np.asarray(groups)
  n = scores.shape[0] if scores.ndim else 0
  if scores.ndim not in (1, 2) or labels.shape != (n,) or groups.shape != (n,):
    raise ValueError(f'expected scores [N] or [N, C], labels [N], groups [N]; '
                     f'got {scores.shape}, {labels.shape}, {groups.shape}')
  if n == 0:
    raise ValueError('no examples')
  return scores, labels, groups


def predictions(scores, threshold: float = 0.5) -> np.ndarray:
  """[N] binary scores -> 1 iff score >= threshold; [N, C] -> arg-max."""
  scores = np.asarray(scores)
  return (scores >= threshold).astype(int) if scores.ndim == 1 else (
      scores.argmax(1))


def _gap(values: dict, what: str) -> float:
  defined = {g: v for g, v in values.items() if not np.isnan(v)}
  undefined = sorted(set(values) - set(defined), key=str)
  if undefined:
    warnings.warn(f'{what} undefined for group(s) {undefined}; left out of '
                  'the gap', RuntimeWarning, stacklevel=3)
  if len(defined) < 2:
    return float('nan')
  return float(max(defined.values()) - min(defined.values()))


def fairness_report(scores, labels, groups, threshold: float = 0.5
                    ) -> dict[str, Any]:
  """Per-group and gap metrics of a classifier.

  Args:
    scores: [N] binary scores P(y = 1) (labels 0/1) or [N, C] class scores.
    labels: [N] integer labels.
    groups: [N] subgroup ids (any hashable values).
    threshold: decision threshold for binary scores.

  Returns:
    {'accuracy', 'worst_group_accuracy', 'worst_group', 'groups': {g: {n,
    accuracy[, positive_rate, tpr, fpr]}}} plus, for binary tasks,
    'demographic_parity_gap', 'tpr_gap', 'fpr_gap', 'equalized_odds_gap'.
  """
  scores, labels, groups = _arrays(scores, labels, groups)
  pred = predictions(scores, threshold)
  binary = scores.ndim == 1 or scores.shape[1] == 2
  if binary and not np.isin(labels, (0, 1)).all():
    raise ValueError(f'binary task needs 0/1 labels, got {np.unique(labels)}')
  per = {}
  for g in sorted(np.unique(groups).tolist(), key=str):
    m = groups == g
    d = {'n': int(m.sum()), 'accuracy': float(np.mean(pred[m] == labels[m]))}
    if binary:
      pos, neg = m & (labels == 1), m & (labels == 0)
      d['positive_rate'] = float(pred[m].mean())
      d['tpr'] = float(pred[pos].mean()) if pos.any() else float('nan')
      d['fpr'] = float(pred[neg].mean()) if neg.any() else float('nan')
    per[g] = d
  worst = min(per, key=lambda g: per[g]['accuracy'])
  out = {'accuracy': float(np.mean(pred == labels)),
         'worst_group_accuracy': per[worst]['accuracy'], 'worst_group': worst,
         'groups': per}
  if binary:
    out['demographic_parity_gap'] = _gap(
        {g: d['positive_rate'] for g, d in per.items()}, 'positive rate')
    out['tpr_gap'] = _gap({g: d['tpr'] for g, d in per.items()},
                          'TPR (no positives)')
    out['fpr_gap'] = _gap({g: d['fpr'] for g, d in per.items()},
                          'FPR (no negatives)')
    terms = [t for t in (out['tpr_gap'], out['fpr_gap']) if not np.isnan(t)]
    out['equalized_odds_gap'] = float(max(terms)) if terms else float('nan')
  return out


@dataclasses.dataclass(frozen=True)
class GroupRule:
  """Randomized threshold of one group: P(yhat = 1 | s) is 1 for s >= hi,
  `p` for lo <= s < hi and 0 for s < lo.

  Attributes:
    hi: scores at or above are positive.
    lo: scores in [lo, hi) are positive with probability p.
    p: randomization probability.
    rate: the in-sample positive rate.
  """
  hi: float
  lo: float
  p: float
  rate: float

  def prob_positive(self, s: np.ndarray) -> np.ndarray:
    return np.where(s >= self.hi, 1.0, np.where(s >= self.lo, self.p, 0.0))


def _rate_curve(s, y):
  """Breakpoints (rates R_j, accuracies A_j, block scores v_j) of one group:
  predicting positive the j highest tie blocks of scores."""
  v, inv = np.unique(-s, return_inverse=True)  # v ascending = scores desc
  n_block = np.bincount(inv, minlength=len(v))
  pos_block = np.bincount(inv, y, minlength=len(v))
  n, n_pos = len(s), y.sum()
  # With the first j blocks positive: correct = pos in them + neg outside.
  tp = np.concatenate([[0], np.cumsum(pos_block)])
  k = np.concatenate([[0], np.cumsum(n_block)])
  acc = (tp + (n - n_pos) - (k - tp)) / n
  return k / n, acc, -v


def _best_in(r, a, lo, hi):
  """Max of the piecewise-linear a(r) over [lo, hi]: (value, rate)."""
  cand = np.concatenate([[lo, hi], r[(r >= lo) & (r <= hi)]])
  vals = np.interp(cand, r, a)
  i = int(np.argmax(vals))
  return vals[i], cand[i]


def _rule(r, a, v, rate):
  del a
  j = int(np.searchsorted(r, rate, side='right')) - 1  # r[j] <= rate
  if j >= len(v):  # everything positive
    return GroupRule(hi=-np.inf, lo=-np.inf, p=1.0, rate=float(rate))
  p = (rate - r[j]) / (r[j + 1] - r[j])
  hi = v[j - 1] if j > 0 else np.inf
  return GroupRule(hi=float(hi), lo=float(v[j]), p=float(p), rate=float(rate))


def debias_demographic_parity(scores, labels, groups, target_gap: float,
                              threshold: float = 0.5, max_candidates=4001
                              ) -> dict[str, Any]:
  """Per-group randomized thresholds meeting a demographic-parity target.

  Args:
    scores: [N] binary scores (higher = more likely positive).
    labels: [N] 0/1 labels.
    groups: [N] subgroup ids.
    target_gap: the largest allowed max_g rate - min_g rate (in [0, 1]).
    threshold: the baseline's single threshold (reported for comparison).
    max_candidates: cap on the band positions searched (exact when the
      number of distinct breakpoints is below it, else a uniform grid).

  Returns:
    {'rules': {g: GroupRule}, 'accuracy' (expected, after), 'gap' (after),
    'baseline_accuracy', 'baseline_gap', 'accuracy_cost' (baseline -
    after; negative = the debiased rule is also more accurate)}.
  """
  scores, labels, groups = _arrays(scores, labels, groups)
  if scores.ndim != 1:
    raise ValueError('threshold debiasing needs binary scores [N]')
  if not np.isin(labels, (0, 1)).all():
    raise ValueError(f'labels must be 0/1, got {np.unique(labels)}')
  if not 0 <= target_gap <= 1:
    raise ValueError(f'target_gap={target_gap} must be in [0, 1]')
  names = sorted(np.unique(groups).tolist(), key=str)
  curves = {g: _rate_curve(scores[groups == g],
                           labels[groups == g].astype(np.float64))
            for g in names}
  weight = {g: float(np.mean(groups == g)) for g in names}
  starts = np.concatenate([np.concatenate([r, r - target_gap])
                           for r, _, _ in curves.values()])
  starts = np.unique(np.clip(starts, 0.0, max(0.0, 1.0 - target_gap)))
  if len(starts) > max_candidates:
    starts = np.linspace(0.0, max(0.0, 1.0 - target_gap), max_candidates)
  best = (-1.0, None)
  for c in starts:
    total, rates = 0.0, {}
    for g in names:
      r, a, _ = curves[g]
      val, rate = _best_in(r, a, c, min(1.0, c + target_gap))
      total += weight[g] * val
      rates[g] = rate
    if total > best[0] + 1e-12:
      best = (total, rates)
  rules = {g: _rule(*curves[g], best[1][g]) for g in names}
  prob = np.zeros_like(scores)
  for g in names:
    prob[groups == g] = rules[g].prob_positive(scores[groups == g])
  acc = float(np.mean(prob * labels + (1 - prob) * (1 - labels)))
  rates = [float(prob[groups == g].mean()) for g in names]
  with warnings.catch_warnings():  # undefined TPR/FPR: irrelevant here
    warnings.simplefilter('ignore', RuntimeWarning)
    base = fairness_report(scores, labels, groups, threshold)
  return {'rules': rules, 'accuracy': acc, 'gap': max(rates) - min(rates),
          'baseline_accuracy': base['accuracy'],
          'baseline_gap': base['demographic_parity_gap'],
          'accuracy_cost': base['accuracy'] - acc, 'target_gap': target_gap}


def apply_rules(scores, groups, rules: Mapping[Any, GroupRule],
                rng: np.random.Generator | None = None) -> np.ndarray:
  """Randomized 0/1 predictions of `debias_demographic_parity` rules."""
  scores, groups = np.asarray(scores, np.float64), np.asarray(groups)
  prob = np.zeros_like(scores)
  for g in np.unique(groups).tolist():
    if g not in rules:
      raise ValueError(f'no rule for group {g!r}; fitted: {list(rules)}')
    prob[groups == g] = rules[g].prob_positive(scores[groups == g])
  rng = rng or np.random.default_rng(0)
  return (rng.random(len(scores)) < prob).astype(int)


def procedural_arrays(examples: Mapping[str, np.ndarray], probs,
                      positive_class: int | None = None):
  """(scores, labels, groups) from procedural-data examples.

  Args:
    examples: dict with [N] `label` and `subgroup` (as produced by
      `vit22b_pax.data.procedural.ShapeTextureGenerator.generate`).
    probs: [N, K] model probabilities for those examples.
    positive_class: None: the K-way task (scores = probs); else the binary
      task "label == positive_class" with scores = probs[:, positive_class].
  """
  for k in ('label', 'subgroup'):
    if k not in examples:
      raise ValueError(f'examples lack {k!r}; have {sorted(examples)}')
  labels = np.asarray(examples['label'])
  probs = np.asarray(probs)
  if probs.ndim != 2 or probs.shape[0] != labels.shape[0]:
    raise ValueError(f'probs {probs.shape} do not match {labels.shape[0]} '
                     'examples')
  groups = np.asarray(examples['subgroup'])
  if positive_class is None:
    return probs, labels, groups
  if not 0 <= positive_class < probs.shape[1]:
    raise ValueError(f'positive_class {positive_class} outside [0, '
                     f'{probs.shape[1]})')
  return probs[:, positive_class], (labels == positive_class).astype(int), (
      groups)


def read_celeba_attributes(path: str, target: str, sensitive: str):
  """(image_ids, labels, groups) from a CelebA `list_attr_celeba.txt`.

  Format: a count line, a header line of 40 attribute names, then one line
  per image: `image_id` and 40 values in {-1, 1}. Labels/groups are 1 where
  the attribute is 1, else 0.

  Raises:
    ValueError: naming file, line and value, for an unknown attribute, a bad
      count, a wrong number of values or a value not in {-1, 1}.
  """
  with open(path) as f:
    lines = f.read().splitlines()
  if len(lines) < 2:
    raise ValueError(f'{path}: expected a count line and a header line')
  try:
    count = int(lines[0].strip())
  except ValueError:
    raise ValueError(f'{path}, line 1: count {lines[0]!r} is not an integer'
                     ) from None
  header = lines[1].split()
  for name in (target, sensitive):
    if name not in header:
      raise ValueError(f'{path}, line 2: no attribute {name!r}; have '
                       f'{header}')
  ti, si = header.index(target), header.index(sensitive)
  ids, lab, grp = [], [], []
  for ln, line in enumerate(lines[2:], start=3):
    if not line.strip():
      continue
    parts = line.split()
    if len(parts) != len(header) + 1:
      raise ValueError(f'{path}, line {ln}: {len(parts) - 1} values, expected '
                       f'{len(header)}')
    for v in parts[1:]:
      if v not in ('1', '-1'):
        raise ValueError(f'{path}, line {ln}: value {v!r} not in {{-1, 1}}')
    ids.append(parts[0])
    lab.append(int(parts[1 + ti] == '1'))
    grp.append(int(parts[1 + si] == '1'))
  if len(ids) != count:
    raise ValueError(f'{path}, line 1: count {count} but {len(ids)} images')
  return ids, np.array(lab), np.array(grp)
