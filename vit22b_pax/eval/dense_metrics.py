# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Segmentation and depth metrics over a whole evaluation set.

mIoU and RMSE are not means of per-batch values: mIoU averages per-class
ratios of counts summed over the whole set; RMSE is each image's RMSE
averaged over images (the default) or the square root of a pooled mean.
paxml's weighted scalars can only average per-batch values, so these
metrics are CLU metrics (`clu.metrics.Metric`, which paxml's eval program
merges batch by batch with `merge()` and reads once with `compute_value()`
at the end of the pass, writing every entry to TensorBoard):

* `SegmentationMetrics`: the K x K confusion matrix (rows = ground truth,
  columns = prediction) summed over every valid pixel of the set.
    IoU_c = TP_c / (TP_c + FP_c + FN_c), over classes with a non-zero union
    (a class absent from both ground truth and predictions is skipped);
    mIoU = mean IoU_c; pixel accuracy = trace / total; mean accuracy =
    mean over classes present in the ground truth of TP_c / (TP_c + FN_c).
* `DepthMetrics` (Eigen et al. 2014), over valid pixels:
    RMSE = sqrt(mean (d^ - d)^2), AbsRel = mean |d^ - d| / d,
    log10 = mean |log10 d^ - log10 d|,
    delta_k = fraction with max(d^/d, d/d^) < 1.25^k, k = 1, 2, 3.
  By default (reduction 'per_image', the literature's convention: big_vision
  proj/uvim/nyu_depth.py, BTS, AdaBins) each metric is computed per image and
  then averaged over the images that have valid pixels; reduction 'pooled'
  (this project's former default) takes each mean over every valid pixel of
  the set. The valid mask is big_vision's strict min_depth < d < max_depth by
  default; mask 'inclusive' (the former default) also counts d equal to
  min_depth or max_depth. Predictions are clipped to [min_depth, max_depth].

Per batch the sums are exact in int32 (counts) / float32; `merge` outside a
trace adds them on the host in int64 / float64, so a large set neither
overflows nor loses counts.
"""

from __future__ import annotations

from typing import Any

from clu import metrics as clu_metrics
from clu import values as clu_values
import flax
import jax
from jax import numpy as jnp
import numpy as np

JTensor = jax.Array
DELTA_BASE = 1.25


def _add(a, b, dtype):
  """a + b; exact host sums (int64 / float64) outside a jax trace."""
  if isinstance(a, jax.core.Tracer) or isinstance(b, jax.core.Tracer):
    return a + b
  return np.asarray(a, dtype) + np.asarray(b, dtype)


def confusion_matrix(labels: JTensor, predictions: JTensor, weights: JTensor,
                     num_classes: int) -> JTensor:
  """[K, K] int32 counts of (label, prediction) over pixels with weight > 0.

  Args:
    labels: [...] int ground-truth class; values outside [0, K) are ignored.
    predictions: [...] int predicted class in [0, K).
    weights: [...] pixel mask (> 0 = counted).
    num_classes: K.
  """
  k = num_classes
  valid = (weights > 0) & (labels >= 0) & (labels < k)
  index = jnp.where(valid, labels * k + predictions, 0).reshape(-1)
  counts = jnp.zeros((k * k,), jnp.int32).at[index].add(
      valid.reshape(-1).astype(jnp.int32))
  return counts.reshape(k, k)


def segmentation_scores(matrix) -> dict[str, float]:
  """mIoU, pixel accuracy, mean accuracy and per-class IoU of a matrix."""
  m = np.asarray(matrix, np.float64)
  tp = np.diag(m)
  gt, pred = m.sum(1), m.sum(0)
  union = gt + pred - tp
  total = m.sum()
  with np.errstate(invalid='ignore', divide='ignore'):
    iou = np.where(union > 0, tp / union, np.nan)
    recall = np.where(gt > 0, tp / gt, np.nan)
  present = union > 0
  out = dict(
      miou=float(iou[present].mean()) if present.any() else float('nan'),
      pixel_accuracy=float(tp.sum() / total) if total else float('nan'),
      mean_accuracy=(float(recall[gt > 0].mean()) if (gt > 0).any()
                     else float('nan')))
  for c, value in enumerate(iou):
    out[f'iou_{c}'] = float(value)
  return out


@flax.struct.dataclass
class SegmentationMetrics(clu_metrics.Metric):
  """Confusion matrix summed over batches; mIoU etc. computed once."""

  matrix: Any

  @classmethod
  def from_batch(cls, labels, predictions, weights,
                 num_classes: int) -> 'SegmentationMetrics':
    return cls(matrix=confusion_matrix(labels, predictions, weights,
                                       num_classes))

  def merge(self, other: 'SegmentationMetrics') -> 'SegmentationMetrics':
    return type(self)(matrix=_add(self.matrix, other.matrix, np.int64))

  def compute(self) -> dict[str, float]:
    return segmentation_scores(self.matrix)

  def compute_value(self) -> dict[str, clu_values.Scalar]:
    scores = self.compute()
    return {k: clu_values.Scalar(v) for k, v in scores.items()
            if not k.startswith('iou_') or np.isfinite(v)}


DEPTH_SCORES = ('rmse', 'abs_rel', 'log10', 'delta1', 'delta2', 'delta3')
# Pooled sums: error sums over every valid pixel of the set.
DEPTH_SUMS = ('count', 'squared_error', 'abs_rel', 'log10', 'delta1',
              'delta2', 'delta3')
# Per-image sums: the number of images and the sum of each image's scores.
DEPTH_IMAGE_SUMS = ('images',) + DEPTH_SCORES
REDUCTIONS = ('per_image', 'pooled')
MASKS = ('strict', 'inclusive')


def _check(what: str, value: str, allowed: tuple[str, ...]) -> None:
  if value not in allowed:
    raise ValueError(f'Unknown depth {what} {value!r}; expected one of '
                     f'{list(allowed)}.')


def check_depth_options(reduction: str, mask: str) -> None:
  _check('metric reduction', reduction, REDUCTIONS)
  _check('valid mask', mask, MASKS)


def depth_mask(depth: JTensor, valid: JTensor, min_depth: float,
               max_depth: float, mask: str = 'strict') -> JTensor:
  """Pixels that count: valid > 0 and ground truth within the range.

  'strict' (big_vision proj/uvim nyu_depth): min_depth < gt < max_depth;
  'inclusive': min_depth <= gt <= max_depth.
  """
  _check('valid mask', mask, MASKS)
  if mask == 'strict':
    return (valid > 0) & (depth > min_depth) & (depth < max_depth)
  return (valid > 0) & (depth >= min_depth) & (depth <= max_depth)


def _pixel_errors(pred, depth, m, min_depth, max_depth):
  """Per-pixel terms (0 where m == 0), float32."""
  pred = jnp.clip(pred, min_depth, max_depth).astype(jnp.float32)
  gt = jnp.where(m > 0, depth, 1.0).astype(jnp.float32)
  ratio = jnp.maximum(pred / gt, gt / pred)
  out = dict(squared_error=m * (pred - gt) ** 2,
             abs_rel=m * jnp.abs(pred - gt) / gt,
             log10=m * jnp.abs(jnp.log10(pred) - jnp.log10(gt)))
  for k in (1, 2, 3):
    out[f'delta{k}'] = m * (ratio < DELTA_BASE ** k)
  return out


def depth_sums(pred: JTensor, depth: JTensor, valid: JTensor,
               min_depth: float, max_depth: float,
               reduction: str = 'per_image',
               mask: str = 'strict') -> dict[str, JTensor]:
  """Per-batch sums of the depth errors over valid pixels.

  Args:
    pred: [B, ...] predicted depth (clipped to [min_depth, max_depth] here);
      axis 0 indexes images.
    depth: [B, ...] ground-truth depth.
    valid: [B, ...] pixel mask (> 0 = counted; padded examples have 0);
      ground truth outside the range (see `depth_mask`) is not counted
      either.
    min_depth: evaluation range (metres).
    max_depth: evaluation range (metres).
    reduction: 'per_image' (default: each image's scores, to be averaged
      over images; an image without valid pixels counts nowhere) or
      'pooled' (error sums over every valid pixel of the set).
    mask: 'strict' (default) or 'inclusive' range, see `depth_mask`.

  Returns:
    {name: float32 scalar} for `DEPTH_IMAGE_SUMS` ('per_image') or
    `DEPTH_SUMS` ('pooled').
  """
  check_depth_options(reduction, mask)
  m = depth_mask(depth, valid, min_depth, max_depth, mask).astype(
      jnp.float32)
  terms = _pixel_errors(pred, depth, m, min_depth, max_depth)
  if reduction == 'pooled':
    return dict(count=m.sum(), **{k: v.sum() for k, v in terms.items()})
  axes = tuple(range(1, m.ndim))
  n = m.sum(axes)
  has = (n > 0).astype(jnp.float32)
  n = jnp.maximum(n, 1.0)
  per = {k: v.sum(axes) / n for k, v in terms.items()}
  per['rmse'] = jnp.sqrt(per.pop('squared_error'))
  return dict(images=has.sum(), **{k: jnp.sum(has * per[k])
                                   for k in DEPTH_SCORES})


def depth_scores(sums: dict[str, Any]) -> dict[str, float]:
  """RMSE, AbsRel, log10 and delta1..3 from `depth_sums` (either kind)."""
  s = {k: float(np.asarray(v, np.float64)) for k, v in sums.items()}
  n = s['images'] if 'images' in s else s['count']
  if n <= 0:
    return {k: float('nan') for k in DEPTH_SCORES}
  if 'images' in s:
    return {k: s[k] / n for k in DEPTH_SCORES}
  out = dict(rmse=float(np.sqrt(s['squared_error'] / n)),
             abs_rel=s['abs_rel'] / n, log10=s['log10'] / n)
  for k in (1, 2, 3):
    out[f'delta{k}'] = s[f'delta{k}'] / n
  return out


@flax.struct.dataclass
class DepthMetrics(clu_metrics.Metric):
  """Depth error sums over batches; RMSE etc. computed once."""

  sums: Any

  @classmethod
  def from_batch(cls, pred, depth, valid, min_depth: float,
                 max_depth: float, reduction: str = 'per_image',
                 mask: str = 'strict') -> 'DepthMetrics':
    return cls(sums=depth_sums(pred, depth, valid, min_depth, max_depth,
                               reduction, mask))

  def merge(self, other: 'DepthMetrics') -> 'DepthMetrics':
    if set(self.sums) != set(other.sums):
      raise ValueError(f'Cannot merge depth metrics of different reductions: '
                       f'{sorted(self.sums)} and {sorted(other.sums)}.')
    return type(self)(sums={k: _add(self.sums[k], other.sums[k], np.float64)
                            for k in self.sums})

  def compute(self) -> dict[str, float]:
    return depth_scores(self.sums)

  def compute_value(self) -> dict[str, clu_values.Scalar]:
    return {k: clu_values.Scalar(v) for k, v in self.compute().items()}
