# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Few-shot linear evaluation on frozen features (big_vision `fewshot_lsr`).

For k shots per class, C classes and features x [N, D] (N = k C):

1. whiten: x <- (x - mean) / (std + 1e-5), mean/std over the shots;
2. append a constant feature BIAS_CONSTANT = 100, so the bias is almost
   unregularised (the L2 penalty on its weight is 1e-4 of the others');
3. targets Y [N, C] = 2 one_hot(y) - 1 (one-vs-all, +-1);
4. ridge regression W = argmin ||X W - Y||^2 + l2 ||W||^2
                      = (X^T X + l2 I)^-1 X^T Y   (N >= D+1)
                      = X^T (X X^T + l2 I)^-1 Y   (N <  D+1),
   through one symmetric eigendecomposition of X^T X (or X X^T), so every
   l2 of the grid costs one matrix product;
5. prediction argmax_c (x W)_c, top-1 on the test set.

l2 (`l2_selection`):
  * 'fixed' (the default): l2 = `default_l2` = 2^10 for every shot count,
    big_vision's protocol (configs/common_fewshot.py), so numbers compare
    with published ones;
  * 'held_out': l2 chosen from `l2_grid` (every power of two, 2^-4 .. 2^14)
    by cross-validation over the shots themselves (fold f holds out the
    shots whose within-class position is f mod F, F = min(k, max_folds)
    folds, whitening recomputed on each fold's fit part). With k = 1 nothing
    can be held out and l2 is `default_l2`. Held-out sets are tiny (a few
    shots per class), so several l2 often score the same; ties are broken
    toward `default_l2`: among the tied l2, the one closest to default_l2 in
    log2 distance |log2(l2 / default_l2)|, and of two equally close (one
    below, one above) the larger. Rationale: a tie means the held-out shots
    cannot tell those l2 apart, so the choice falls back on the protocol's
    prior value instead of on an end of the grid (the former rule, "the
    largest", picked 2^14 in most ties); the larger of two equally close
    values regularises more, the safer side with few shots.
Everything runs in float64 numpy.

Shots: for seed s, every class's training indices are permuted by
`np.random.default_rng(s)` and the first k of each are used, so the 1-shot
set is inside the 5-shot set of the same seed (as big_vision). Several seeds
give the mean and spread (sample standard deviation, min, max) of top-1.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

BIAS_CONSTANT = 100.0
DEFAULT_SHOTS = (1, 5, 10, 25)
DEFAULT_L2 = 2.0**10
DEFAULT_L2_GRID = tuple(2.0**p for p in range(-4, 15))  # 1/16 .. 16384.
L2_SELECTIONS = ('fixed', 'held_out')
DEFAULT_L2_SELECTION = 'fixed'  # big_vision's protocol.
DEFAULT_NUM_SEEDS = 3
_STD_EPS = 1e-5


def _features(name: str, x) -> np.ndarray:
  x = np.asarray(x, np.float64)
  if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
    raise ValueError(f'{name} must be a non-empty [N, D] array, got shape '
                     f'{x.shape}.')
  if not np.all(np.isfinite(x)):
    bad = int(np.argwhere(~np.isfinite(x))[0, 0])
    raise ValueError(f'{name} has non-finite values (first in row {bad}).')
  return x


def _labels(name: str, y, n: int, num_classes: int) -> np.ndarray:
  y = np.asarray(y)
  if y.shape != (n,):
    raise ValueError(f'{name} must be [{n}] (one label per feature row), got '
                     f'shape {y.shape}.')
  if not np.issubdtype(y.dtype, np.integer):
    raise ValueError(f'{name} must be integer class ids, got dtype {y.dtype}.')
  if n and (y.min() < 0 or y.max() >= num_classes):
    raise ValueError(f'{name} must be in [0, {num_classes}), got values in '
                     f'[{y.min()}, {y.max()}].')
  return y.astype(np.int64)


def check_l2_selection(l2_selection: str) -> str:
  if l2_selection not in L2_SELECTIONS:
    raise ValueError(f'Unknown l2_selection {l2_selection!r}; expected one '
                     f'of {list(L2_SELECTIONS)}.')
  return l2_selection


def break_tie(tied: Sequence[float], default_l2: float = DEFAULT_L2) -> float:
  """The tied l2 closest to default_l2 in log2 distance; the larger of two
  equally close ones (see the module docstring for why)."""
  if not tied:
    raise ValueError('break_tie needs at least one l2.')
  anchor = np.log2(float(default_l2))
  return min((float(v) for v in tied),
             key=lambda v: (abs(np.log2(v) - anchor), -v))


def _check_num_classes(num_classes: int) -> None:
  if num_classes < 2:
    raise ValueError(f'num_classes={num_classes}: few-shot classification '
                     'needs at least 2 classes.')


@dataclasses.dataclass(frozen=True)
class RidgeCache:
  """Quantities shared by every l2 for one set of shots.

  W(l2) = lhs diag(1 / (eigs + l2)) rhs.

  Attributes:
    eigs: [M] eigenvalues of X^T X (M = D+1) or X X^T (M = N).
    lhs: [D+1, M].
    rhs: [M, C].
    mean: [D] feature mean of the shots.
    std: [D] feature std of the shots (+ 1e-5).
  """
  eigs: np.ndarray
  lhs: np.ndarray
  rhs: np.ndarray
  mean: np.ndarray
  std: np.ndarray

  def weights(self, l2: float) -> np.ndarray:
    """[D+1, C] ridge weights (last row: the bias feature's)."""
    if not l2 > 0:
      raise ValueError(f'l2={l2!r} must be > 0.')
    return (self.lhs / (self.eigs + l2)[None, :]) @ self.rhs

  def design(self, x: np.ndarray) -> np.ndarray:
    """[N, D+1]: x whitened with the shots' statistics, bias column added."""
    x = (np.asarray(x, np.float64) - self.mean) / self.std
    return np.pad(x, ((0, 0), (0, 1)), constant_values=BIAS_CONSTANT)

  def scores(self, x: np.ndarray, l2: float) -> np.ndarray:
    """[N, C] regression outputs for features x [N, D]."""
    return self.design(x) @ self.weights(l2)


def fit(x, y, num_classes: int) -> RidgeCache:
  """Whitens the shots and eigendecomposes their Gram matrix.

  Args:
    x: [N, D] features of the shots.
    y: [N] int labels in [0, num_classes).
    num_classes: C.

  Returns:
    The RidgeCache; `.weights(l2)` solves for any l2 > 0.
  """
  _check_num_classes(num_classes)
  x = _features('shot features', x)
  y = _labels('shot labels', y, len(x), num_classes)
  mean = x.mean(axis=0)
  std = x.std(axis=0) + _STD_EPS
  xb = np.pad((x - mean) / std, ((0, 0), (0, 1)),
              constant_values=BIAS_CONSTANT)
  targets = 2.0 * (y[:, None] == np.arange(num_classes)[None]) - 1.0
  n, d = xb.shape
  if n >= d:
    eigs, q = np.linalg.eigh(xb.T @ xb)
    lhs, rhs = q, q.T @ (xb.T @ targets)
  else:
    eigs, q = np.linalg.eigh(xb @ xb.T)
    lhs, rhs = xb.T @ q, q.T @ targets
  # Gram matrices are positive semi-definite; clip rounding below zero.
  return RidgeCache(np.maximum(eigs, 0.0), lhs, rhs, mean, std)


def accuracy(cache: RidgeCache, x, y, l2: float) -> float:
  """Top-1 of the l2-regularised solution on (x, y)."""
  y = np.asarray(y)
  return float(np.mean(np.argmax(cache.scores(x, l2), axis=1) == y))


def class_permutations(labels, num_classes: int,
                       seed: int) -> list[np.ndarray]:
  """Per class, its indices into `labels` in a seed-determined random order.

  Raises:
    ValueError: a class in [0, num_classes) has no example at all (the data
      set has fewer classes than requested).
  """
  _check_num_classes(num_classes)
  labels = np.asarray(labels)
  labels = _labels('labels', labels, len(labels), num_classes)
  present = np.bincount(labels, minlength=num_classes)
  missing = np.flatnonzero(present == 0)
  if len(missing):
    raise ValueError(
        f'Few-shot evaluation of {num_classes} classes, but the shot pool '
        f'has examples of only {num_classes - len(missing)}: no example of '
        f'class(es) {missing.tolist()}. Use a larger pool or fewer classes.')
  rng = np.random.default_rng(seed)
  return [rng.permutation(np.flatnonzero(labels == c))
          for c in range(num_classes)]


def sample_shots(labels, num_classes: int, shots: int,
                 seed: int) -> np.ndarray:
  """Indices of `shots` examples of every class, [num_classes * shots].

  Balanced (exactly `shots` per class, grouped by class: class c occupies
  positions [c k, (c+1) k)) and a pure function of (labels, seed).

  Raises:
    ValueError: shots < 1, a class has fewer than `shots` examples (naming
      it and its count), or classes are missing.
  """
  if shots < 1:
    raise ValueError(f'shots={shots} must be >= 1.')
  perms = class_permutations(labels, num_classes, seed)
  short = [(c, len(p)) for c, p in enumerate(perms) if len(p) < shots]
  if short:
    c, n = short[0]
    raise ValueError(
        f'{shots}-shot evaluation needs {shots} examples of every class, but '
        f'class {c} has only {n} in the shot pool ({len(short)} class(es) '
        f'short: {[s[0] for s in short]}). Use a larger pool or fewer shots.')
  return np.concatenate([p[:shots] for p in perms])


def choose_l2(x, y, num_classes: int, shots: int,
              l2_grid: Sequence[float] = DEFAULT_L2_GRID,
              default_l2: float = DEFAULT_L2,
              max_folds: int = 5) -> tuple[float, dict[float, float]]:
  """Picks l2 by cross-validation over the shots.

  Args:
    x: [C k, D] shot features grouped by class (as `sample_shots` orders
      them: class c at rows [c k, (c+1) k)).
    y: [C k] labels.
    num_classes: C.
    shots: k.
    l2_grid: candidate l2 values (> 0).
    default_l2: returned when k = 1 (nothing to hold out).
    max_folds: at most this many folds.

  Returns:
    (chosen l2, {l2: mean held-out top-1}); the dict is empty for k = 1.
    Ties (scores within 1e-12 of the best) go to `break_tie(tied,
    default_l2)`: the one closest to default_l2, the larger if two are.
  """
  grid = sorted(float(v) for v in l2_grid)
  if not grid or grid[0] <= 0:
    raise ValueError(f'l2_grid={list(l2_grid)} must be non-empty and > 0.')
  if shots == 1:
    return float(default_l2), {}
  x, y = np.asarray(x, np.float64), np.asarray(y)
  position = np.tile(np.arange(shots), num_classes)
  if y.shape != position.shape or np.any(
      y != np.repeat(np.arange(num_classes), shots)):
    raise ValueError('choose_l2 expects the shots grouped by class, '
                     f'{shots} per class, as sample_shots returns them.')
  folds = min(shots, max_folds)
  scores = {l2: 0.0 for l2 in grid}
  for f in range(folds):
    held = position % folds == f
    cache = fit(x[~held], y[~held], num_classes)
    for l2 in grid:
      scores[l2] += accuracy(cache, x[held], y[held], l2) / folds
  best = max(scores.values())
  tied = [l2 for l2, s in scores.items() if s >= best - 1e-12]
  return break_tie(tied, default_l2), scores


@dataclasses.dataclass(frozen=True)
class ShotResult:
  """Top-1 of one shot count over seeds.

  Attributes:
    shots: k.
    accuracies: top-1 per seed.
    l2: the l2 used per seed.
  """
  shots: int
  accuracies: tuple[float, ...]
  l2: tuple[float, ...]

  @property
  def mean(self) -> float:
    return float(np.mean(self.accuracies))

  @property
  def std(self) -> float:
    """Sample standard deviation over seeds (0 for one seed)."""
    if len(self.accuracies) < 2:
      return 0.0
    return float(np.std(self.accuracies, ddof=1))

  @property
  def min(self) -> float:
    return float(np.min(self.accuracies))

  @property
  def max(self) -> float:
    return float(np.max(self.accuracies))

  def as_dict(self) -> dict[str, object]:
    return dict(shots=self.shots, mean=self.mean, std=self.std, min=self.min,
                max=self.max, accuracies=list(self.accuracies),
                l2=list(self.l2))


def evaluate(train_x, train_y, test_x, test_y, num_classes: int,
             shots: Sequence[int] = DEFAULT_SHOTS,
             num_seeds: int = DEFAULT_NUM_SEEDS,
             l2_grid: Sequence[float] = DEFAULT_L2_GRID,
             default_l2: float = DEFAULT_L2,
             l2_selection: str = DEFAULT_L2_SELECTION
             ) -> dict[int, ShotResult]:
  """Few-shot top-1 for every shot count over `num_seeds` draws.

  Args:
    train_x: [N, D] features of the shot pool (e.g. a train split).
    train_y: [N] int labels.
    test_x: [M, D] features of the test set.
    test_y: [M] int labels.
    num_classes: C; every class must have max(shots) pool examples.
    shots: shot counts k.
    num_seeds: draws of the shots (seeds 0 .. num_seeds - 1).
    l2_grid: l2 candidates for `choose_l2` ('held_out' only).
    default_l2: the fixed l2 ('fixed'); for 'held_out', the l2 of 1 shot
      and the anchor of the tie rule.
    l2_selection: 'fixed' (big_vision) or 'held_out' (see the module
      docstring).

  Returns:
    {k: ShotResult}.

  Raises:
    ValueError: bad shapes or labels, too few classes or examples per class
      (checked for every shot count before any solve).
  """
  _check_num_classes(num_classes)
  train_x = _features('train features', train_x)
  train_y = _labels('train labels', train_y, len(train_x), num_classes)
  test_x = _features('test features', test_x)
  test_y = _labels('test labels', test_y, len(test_x), num_classes)
  if train_x.shape[1] != test_x.shape[1]:
    raise ValueError(f'train features have {train_x.shape[1]} dims, test '
                     f'features {test_x.shape[1]}.')
  shots = [int(k) for k in shots]
  if not shots or min(shots) < 1:
    raise ValueError(f'shots={shots} must be non-empty and >= 1.')
  if num_seeds < 1:
    raise ValueError(f'num_seeds={num_seeds} must be >= 1.')
  check_l2_selection(l2_selection)
  if not default_l2 > 0:
    raise ValueError(f'default_l2={default_l2!r} must be > 0.')
  sample_shots(train_y, num_classes, max(shots), 0)  # Fails early if short.
  acc = {k: [] for k in shots}
  l2s = {k: [] for k in shots}
  for seed in range(num_seeds):
    for k in shots:
      idx = sample_shots(train_y, num_classes, k, seed)
      x, y = train_x[idx], train_y[idx]
      if l2_selection == 'fixed':
        l2 = float(default_l2)
      else:
        l2, _ = choose_l2(x, y, num_classes, k, l2_grid, default_l2)
      acc[k].append(accuracy(fit(x, y, num_classes), test_x, test_y, l2))
      l2s[k].append(l2)
  return {k: ShotResult(k, tuple(acc[k]), tuple(l2s[k])) for k in shots}


def format_table(results: dict[str, dict[int, ShotResult]]) -> str:
  """Markdown table: one row per data set, mean +- std per shot count."""
  shots = sorted({k for r in results.values() for k in r})
  lines = ['| data | ' + ' | '.join(f'{k}-shot' for k in shots) + ' |',
           '|---|' + '---|' * len(shots)]
  for name, r in results.items():
    cells = [f'{r[k].mean:.3f} ± {r[k].std:.3f}' if k in r else ''
             for k in shots]
    lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines)
