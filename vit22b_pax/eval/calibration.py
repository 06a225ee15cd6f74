# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Expected calibration error and reliability diagrams.

Top-label calibration (Guo et al. 2017): the confidence of a prediction is
the probability of its predicted class; predictions are grouped into
`num_bins` equal-width confidence bins [i/B, (i+1)/B) (the last bin closed at
1), and

  ECE = sum_b (n_b / N) |accuracy_b - mean confidence_b|,
  MCE = max over non-empty bins of |accuracy_b - mean confidence_b|.

Inputs: probabilities [N, C] (C >= 2) with integer labels, or binary scores
[N] = P(y = 1) with labels in {0, 1} (prediction 1 iff score >= 0.5,
confidence max(s, 1 - s)).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _top_label(probs, labels):
  probs = np.asarray(probs, np.float64)
  labels = np.asarray(labels)
  if probs.ndim == 1:
    if np.any((probs < 0) | (probs > 1)):
      raise ValueError('binary scores must be probabilities in [0, 1]')
    if not np.isin(labels, (0, 1)).all():
      raise ValueError(f'binary labels must be 0/1, got {np.unique(labels)}')
    pred = (probs >= 0.5).astype(int)
    conf = np.where(pred == 1, probs, 1 - probs)
  elif probs.ndim == 2:
    if np.any(probs < 0) or not np.allclose(probs.sum(1), 1, atol=1e-4):
      raise ValueError('probs [N, C] must be non-negative rows summing to 1')
    pred = probs.argmax(1)
    conf = probs.max(1)
  else:
    raise ValueError(f'expected probs [N] or [N, C], got {probs.shape}')
  if labels.shape != (probs.shape[0],):
    raise ValueError(f'labels {labels.shape} do not match probs {probs.shape}')
  if probs.shape[0] == 0:
    raise ValueError('no examples')
  return conf, (pred == labels).astype(np.float64)


def expected_calibration_error(probs, labels, num_bins: int = 15
                               ) -> dict[str, Any]:
  """ECE with equal-width bins.

  Args:
    probs: [N, C] probabilities or [N] binary scores P(y = 1).
    labels: [N] integer labels.
    num_bins: number of equal-width confidence bins B.

  Returns:
    {'ece', 'mce', 'accuracy', 'num_bins', 'bin_edges' [B + 1], 'count' [B],
    'bin_accuracy' [B], 'bin_confidence' [B]} (NaN for empty bins).
  """
  if num_bins < 1:
    raise ValueError(f'num_bins must be >= 1, got {num_bins}')
  conf, correct = _top_label(probs, labels)
  b = np.minimum((conf * num_bins).astype(int), num_bins - 1)
  count = np.bincount(b, minlength=num_bins).astype(np.float64)
  with np.errstate(invalid='ignore', divide='ignore'):
    acc = np.bincount(b, correct, num_bins) / count
    mean_conf = np.bincount(b, conf, num_bins) / count
  gap = np.abs(acc - mean_conf)
  nonempty = count > 0
  return {'ece': float(np.sum(count[nonempty] * gap[nonempty]) / count.sum()),
          'mce': float(gap[nonempty].max()),
          'accuracy': float(correct.mean()), 'num_bins': num_bins,
          'bin_edges': np.linspace(0, 1, num_bins + 1).tolist(),
          'count': count.astype(int).tolist(), 'bin_accuracy': acc.tolist(),
          'bin_confidence': mean_conf.tolist()}


def plot_reliability_diagram(result: dict[str, Any], path: str,
                             title: str = '') -> None:
  """Writes the reliability diagram (accuracy per confidence bin) as PNG.

  Args:
    result: output of `expected_calibration_error`.
    path: output image path.
    title: figure title (the ECE is appended).
  """
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  edges = np.array(result['bin_edges'])
  width = edges[1] - edges[0]
  acc = np.nan_to_num(np.array(result['bin_accuracy'], np.float64))
  conf = np.array(result['bin_confidence'], np.float64)
  fig, (ax, ax_n) = plt.subplots(
      2, 1, figsize=(5, 6), gridspec_kw={'height_ratios': [3, 1]},
      sharex=True)
  ax.bar(edges[:-1], acc, width=width, align='edge', color='#4c72b0',
         edgecolor='black', label='accuracy')
  has = ~np.isnan(conf)
  ax.bar(edges[:-1][has], (conf - acc)[has], bottom=acc[has], width=width,
         align='edge', color='#dd8452', alpha=0.5, hatch='//',
         edgecolor='#dd8452', label='gap to confidence')
  ax.plot([0, 1], [0, 1], 'k--', lw=1, label='perfect calibration')
  ax.set_ylabel('Accuracy')
  ax.set_xlim(0, 1)
  ax.set_ylim(0, 1)
  ax.legend(loc='upper left', fontsize=8)
  ax.set_title(f'{title} ECE = {result["ece"]:.4f}'.strip())
  ax_n.bar(edges[:-1], result['count'], width=width, align='edge',
           color='gray', edgecolor='black')
  ax_n.set_xlabel('Confidence')
  ax_n.set_ylabel('Count')
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)
