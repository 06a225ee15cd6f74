# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Multi-label evaluation metrics (k-hot targets, sigmoid scores).

Definitions (a class is positive for an example when its target > 0.5; an
example with weight 0, e.g. eval padding or an unreadable image, is ignored
everywhere; ties between scores are resolved pessimistically: a positive is
ranked below every item with the same score, as scikit-learn does):

* precision@1 (`precision_at_1`, per batch, jnp): weighted fraction of
  examples whose top-scoring class is positive (big_vision's `prec@1`). An
  example without positives counts as 0.
* example mAP (`example_average_precision`, per batch, jnp): the mean over
  examples of the average precision of ranking that example's classes,
  AP_i = mean over positives j of |{positives k: s_k >= s_j}| /
  |{classes k: s_k >= s_j}| (scikit-learn's
  `label_ranking_average_precision_score`). Examples without positives are
  left out (weight 0). Being a mean over examples, paxml's weighted mean over
  eval batches gives the exact value for the whole split.
* class mAP (`class_mean_average_precision`, numpy, whole split): the mean
  over classes of the average precision of ranking the examples for that
  class, AP_c = sum over positives i of P(s >= s_i) / P_c with P(s >= t) the
  weighted fraction of positives among examples scoring >= t (scikit-learn's
  `average_precision_score`, no interpolation). Classes without a positive
  example in the split have no AP (NaN in the per-class output) and are left
  out of the mean; with no positive at all the mAP is NaN. It needs every
  score of the split at once, so it is computed on the host from the
  classifier's per-example outputs (`scores`, `labels`, `weights`), e.g.
  with `class_map_from_per_example`.

Shapes: B batch, K classes.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

JTensor = jax.Array


def precision_at_1(logits: JTensor, label_probs: JTensor,
                   weights: JTensor) -> tuple[JTensor, JTensor]:
  """(weighted precision@1, total weight): one paxml WeightedScalar."""
  top = jnp.argmax(logits, axis=-1)
  hit = jnp.take_along_axis(label_probs, top[:, None], axis=-1)[:, 0] > 0.5
  w = weights.astype(jnp.float32)
  total = jnp.sum(w)
  return jnp.sum(hit * w) / jnp.maximum(total, 1e-9), total


def example_average_precision(logits: JTensor,
                              label_probs: JTensor) -> tuple[JTensor, JTensor]:
  """Per-example label-ranking AP [B] and has-positive mask [B] (float32)."""
  scores = logits.astype(jnp.float32)
  pos = label_probs > 0.5
  k = scores.shape[-1]
  # |{classes k: s_k >= s_j}| via a sorted copy: K - (number strictly below).
  ascending = jnp.sort(scores, axis=-1)
  below = jax.vmap(lambda a, s: jnp.searchsorted(a, s, side='left'))(
      ascending, scores)
  ge_all = (k - below).astype(jnp.float32)
  pos_scores = jnp.sort(jnp.where(pos, scores, -jnp.inf), axis=-1)
  pos_below = jax.vmap(lambda a, s: jnp.searchsorted(a, s, side='left'))(
      pos_scores, scores)
  ge_pos = (k - pos_below).astype(jnp.float32)
  n_pos = jnp.sum(pos, axis=-1).astype(jnp.float32)
  ap = jnp.sum(jnp.where(pos, ge_pos / ge_all, 0.0), axis=-1) / jnp.maximum(
      n_pos, 1.0)
  return ap, (n_pos > 0).astype(jnp.float32)


def example_map(logits: JTensor, label_probs: JTensor,
                weights: JTensor) -> tuple[JTensor, JTensor]:
  """(weighted mean example AP, weight of examples with positives)."""
  ap, has_pos = example_average_precision(logits, label_probs)
  w = weights.astype(jnp.float32) * has_pos
  total = jnp.sum(w)
  return jnp.sum(ap * w) / jnp.maximum(total, 1e-9), total


def class_average_precision(scores: np.ndarray, labels: np.ndarray,
                            weights: np.ndarray | None = None) -> np.ndarray:
  """Per-class AP [K] over a whole split (NaN: class without positives).

  Args:
    scores: [N, K] scores (logits or probabilities; only the order matters).
    labels: [N, K] targets; > 0.5 = positive.
    weights: [N] example weights (0 = ignored); default ones.

  Returns:
    [K] float64 average precision per class.
  """
  scores = np.asarray(scores, np.float64)
  labels = np.asarray(labels) > 0.5
  if scores.ndim != 2 or scores.shape != labels.shape:
    raise ValueError(f'scores {scores.shape} and labels {labels.shape} must '
                     'both be [N, K].')
  n, k = scores.shape
  w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
  if w.shape != (n,) or np.any(w < 0):
    raise ValueError(f'weights must be [N]={n} non-negative values, got '
                     f'shape {w.shape}.')
  keep = w > 0
  scores, labels, w = scores[keep], labels[keep], w[keep]
  ap = np.full(k, np.nan)
  for c in range(k):
    s, y = scores[:, c], labels[:, c]
    if not np.any(y):
      continue
    order = np.argsort(-s, kind='stable')
    s, y, wc = s[order], y[order], w[order]
    # Tied scores form one threshold: counts at the last item of each run.
    last = np.r_[s[1:] != s[:-1], True]
    cum_w = np.cumsum(wc)[last]
    cum_tp = np.cumsum(wc * y)[last]
    run_tp = np.diff(np.r_[0.0, cum_tp])
    ap[c] = np.sum(run_tp * cum_tp / cum_w) / cum_tp[-1]
  return ap


def class_mean_average_precision(scores, labels, weights=None
                                 ) -> tuple[float, int]:
  """(class mAP over classes with positives (NaN if none), that count)."""
  ap = class_average_precision(scores, labels, weights)
  valid = ~np.isnan(ap)
  return (float(np.mean(ap[valid])) if valid.any() else float('nan'),
          int(valid.sum()))


def class_map_from_per_example(per_example: Sequence[dict[str, Any]]
                               ) -> tuple[float, int]:
  """Class mAP from the classifier's per-batch eval outputs.

  Args:
    per_example: per eval batch, a mapping with 'scores' [B, K], 'labels'
      [B, K] and 'weights' [B] (paxml's list of per_example_out).

  Returns:
    (class mAP, number of classes with a positive).
  """
  if not per_example:
    raise ValueError('no per-example outputs: the eval split was empty.')
  cat = lambda key: np.concatenate([np.asarray(b[key]) for b in per_example])
  return class_mean_average_precision(cat('scores'), cat('labels'),
                                      cat('weights'))
