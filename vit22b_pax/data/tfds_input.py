# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""TFDS image classification input on the shared tf.data stream.

The stream (host split, shuffle seeded by (seed, input_random_seed, host),
eval padding to the largest host's batch count with weight 0, iterator state
for exact resume) is `tfds_stream.TfdsStreamInput`. This module supplies the
per-example map: parallel decode + Inception crop / evaluation crop + flip
(`tfimage`, stateless seeds keyed by (seed, input_random_seed, host,
position)), undecodable images kept as blank rows (`tfimage.safe_map`), and
the targets.

Targets: a scalar integer label feature gives one-hot label_probs; an integer
sequence feature (`tfds.features.Sequence(ClassLabel)`, e.g. VOC's 'labels')
gives k-hot label_probs (multi-label; `label` is then the smallest positive
id, -1 for none).

State size: the shuffle buffer of encoded records (about shuffle_buffer x
mean record size, e.g. ~1.1 GB for ImageNet at 10,000) plus the decoded
images in flight; lower shuffle_buffer / prefetch_batches to shrink it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from praxis import py_utils
import tensorflow as tf

from vit22b_pax.data import folders
from vit22b_pax.data import tfds_stream
from vit22b_pax.data import tfimage

NestedMap = py_utils.NestedMap


class TfdsInput(tfds_stream.TfdsStreamInput):
  """Any prepared TFDS image classification data set (never downloads).

  `num_examples` > 0 caps the examples per host. Eval images: the evaluation
  crop (`crop.tf_resize_small_crop`: shorter side -> image_size /
  crop_fraction, centre crop). Training: `inception_crop` on the
  full-resolution image, `flip`, `mixup_alpha` (numpy, on the batch).

  Attributes (besides those of `tfds_stream.TfdsStreamInput`):
    image_key: feature with the image (encoded `tfds.features.Image` or a
      decoded uint8 tensor).
    label_key: feature with the integer label, or a sequence of integer
      labels (multi-label).
    crop_fraction: eval centre-crop fraction (0.875: 256 -> 224).
    max_unreadable_fraction: raise once more than this fraction of the images
      read are undecodable (1.0 = never).
  """
  _KIND = 'TfdsInput'
  _STATE_MAGIC = b'vit22b_pax.TfdsInput.v2\0'
  image_key: str = 'image'
  label_key: str = 'label'
  shuffle_buffer: int = 10_000
  crop_fraction: float = 0.875
  max_unreadable_fraction: float = 0.5
  _multi_label: Any = dataclasses.field(init=False, repr=False, default=None)
  _tracker: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    if not 0.0 < self.crop_fraction <= 1.0:
      raise ValueError(f'crop_fraction={self.crop_fraction} must be in '
                       '(0, 1].')
    super().__post_init__()
    self._tracker = folders.UnreadableTracker(
        self.name, f'{self.dataset_name}:{self._host_split}', None,
        self.max_unreadable_fraction,
        min_checked=min(folders.MIN_CHECKED, self._host_sizes[
            self.infeed_host_index]))

  def _feature_keys(self) -> tuple[str, ...]:
    return (self.image_key, self.label_key)

  def _check_features(self, features: Any) -> None:
    label_feature = features[self.label_key]
    rank = len(label_feature.shape)
    if rank not in (0, 1) or not np.issubdtype(
        np.dtype(label_feature.np_dtype), np.integer):
      raise ValueError(f'label feature {self.label_key!r} is '
                       f'{label_feature!r}; expected an integer or a '
                       'sequence of integers.')
    self._multi_label = rank == 1
    known = getattr(label_feature, 'num_classes', None) or getattr(
        getattr(label_feature, 'feature', None), 'num_classes', None)
    if known and known > self.num_classes:
      raise ValueError(f'{self.dataset_name!r} has {known} classes in '
                       f'{self.label_key!r} but num_classes='
                       f'{self.num_classes}.')

  @property
  def multi_label(self) -> bool:
    """True when the label feature is a sequence (k-hot label_probs)."""
    return self._multi_label

  def _targets(self, label):
    """Raw label feature -> (label int32, label_probs [K] float32)."""
    k = self.num_classes
    if self._multi_label:
      ids = tf.cast(label, tf.int32)
      probs = tf.minimum(tf.reduce_sum(tf.one_hot(ids, k), axis=0), 1.0)
      first = tf.where(tf.reduce_any(probs > 0),
                       tf.cast(tf.argmax(probs), tf.int32), -1)
      return first, probs
    label = tf.cast(label, tf.int32)
    return label, tf.one_hot(label, k)

  def _map_examples(self, ds: tf.data.Dataset) -> tf.data.Dataset:
    """Decode + crop + flip per example; undecodable -> blank, ok=False."""
    def split(pos, ex):
      return (ex[self.image_key],) + self._targets(ex[self.label_key]) + (
          pos,)

    def as_dict(image, ok, label, probs, pos):
      return dict(image=image, ok=ok, label=label, label_probs=probs,
                  position=pos)

    base = tf.constant(self._seed(), tf.int64)

    def load(raw, label, probs, pos):
      del label, probs
      return tfimage.preprocess(
          raw, self.image_size, training=self.is_training,
          inception_crop=self.inception_crop, flip=self.flip,
          crop_fraction=self.crop_fraction, seed_base=base, position=pos)

    ds = tfimage.safe_map(ds.map(split), load, self.image_size,
                          self.num_parallel_calls or tf.data.AUTOTUNE)
    return ds.map(as_dict)

  def _make_batch(self, arrays: dict[str, np.ndarray],
                  real: np.ndarray) -> NestedMap:
    b, ok = self.batch_size, arrays['ok']
    image, label, probs = (arrays['image'], arrays['label'],
                           arrays['label_probs'])
    label = np.where(real, label, -1).astype(np.int32)
    if real.any():
      self._tracker.record_stream(
          ok[real], [f'example #{p} of {self._tracker.where}'
                     for p in arrays['position'][real]])
    if self.is_training and ok.any() and not ok.all():
      rows = folders.fill_unreadable(ok)
      image, label, probs = image[rows], label[rows], probs[rows]
      weights = np.ones(b, np.float32)
    else:
      weights = (real & ok).astype(np.float32)
    batch = NestedMap(image=image, label=label, label_probs=probs,
                      texture_label=np.full(b, -1, np.int32),
                      subgroup=np.zeros(b, np.int32))
    return self._augment_and_pack(batch, weights, self._step,
                                  crop_done=True, flip_done=True)
