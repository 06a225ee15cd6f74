# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""tf.data twin of `real.ImageFolderInput`: parallel decode and augment.

`TfDataImageFolderInput` reads the same files, labels (class folders or a
multi-label CSV), example order, host shards and eval padding as the PIL path
(`real.ImageFolderInput`, see `inputs.IndexedImageInput`), but decodes,
crops, resizes and flips in a tf.data pipeline on all cores
(`tfimage.preprocess`):

  global steps -> [B] file ids per step (numpy, as IndexedImageInput)
    -> unbatch -> parallel read + decode + Inception crop / resize + flip
       (stateless seeds keyed by (seed, input_random_seed, global position))
    -> batch -> prefetch

(the shared stage `tfds_stream.map_and_batch`; the seed word is
`tfds_stream.seed_base`, as for the TFDS inputs), so every batch is a
function of (seed, input_random_seed, step, host). Host split and eval
padding are `inputs.IndexedImageInput`'s (disjoint contiguous blocks; every
eval example once, padding rows of weight 0). Its state is the step
(`get_state` / `set_state`), and a restored input rebuilds the pipeline at
that step: bit-identical batches after a resume. Mixup runs in numpy on the
batch, seeded by (seed, step, host), as in the PIL path.

Unreadable files: weight 0 in eval; in training they are replaced by other
readable images of the same batch (labels follow; a batch with no readable
image at all gets weight 0). The
`max_unreadable_fraction` check of `folders.UnreadableTracker` applies.

`TfdsInput` (TFDS data sets) lives in `tfds_input.py` and is re-exported here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from praxis import py_utils
import tensorflow as tf

from vit22b_pax.data import folders
from vit22b_pax.data import procedural
from vit22b_pax.data import real
from vit22b_pax.data import tfimage
from vit22b_pax.data import tfds_input
from vit22b_pax.data import tfds_stream

NestedMap = py_utils.NestedMap
# The TFDS input, re-exported (recipes name it real.TfdsInput).
TfdsInput = tfds_input.TfdsInput
# The per-example seed word of (seed, input_random_seed), as the TFDS inputs.
seed_base = tfds_stream.seed_base


class TfDataImageFolderInput(real.ImageFolderInput):
  """ImageFolder (or labels CSV) input decoded by a parallel tf.data pipeline.

  Constructor arguments are those of `real.ImageFolderInput` plus:

  Attributes:
    num_parallel_calls: parallel decodes; 0 = tf.data.AUTOTUNE.
    prefetch_batches: batches prepared ahead of get_next().
  """
  num_parallel_calls: int = 0
  prefetch_batches: int = 2
  _iter: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    super().__post_init__()
    if self.num_parallel_calls < 0:
      raise ValueError(f'num_parallel_calls={self.num_parallel_calls} must be '
                       '>= 0 (0 = AUTOTUNE).')
    if self.prefetch_batches < 0:
      raise ValueError(f'prefetch_batches={self.prefetch_batches} must be '
                       '>= 0.')
    self._iter = None

  def _step_elements(self, step):
    """(paths, file ids, weights, global positions) of this host at step."""
    step = int(step)
    idx, weights = self._indices(step)
    pos = procedural.host_indices(step, self.batch_size,
                                  self.infeed_host_index,
                                  self.num_infeed_hosts)
    paths = np.array([self._files[i].encode() for i in idx], dtype=object)
    return (paths, idx.astype(np.int64), weights.astype(np.float32),
            pos.astype(np.int64))

  def _make_dataset(self, start_step: int) -> tf.data.Dataset:
    b = self.batch_size
    end = (self.num_eval_batches() if self.reset_for_eval
           else np.iinfo(np.int64).max)
    steps = tf.data.Dataset.range(start_step, end)

    def step_elements(step):
      out = tf.numpy_function(self._step_elements, [step],
                              [tf.string, tf.int64, tf.float32, tf.int64])
      return tuple(tf.ensure_shape(t, [b]) for t in out)

    ds = steps.map(step_elements).unbatch()
    base = tf.constant(seed_base(self.seed, self.input_random_seed), tf.int64)
    size, training = self.image_size, self.is_training

    def load(path, file_id, weight, pos):
      del file_id, weight
      return tfimage.preprocess(
          tf.io.read_file(path), size, training=training,
          inception_crop=self.inception_crop, flip=self.flip,
          crop_fraction=self.crop_fraction, seed_base=base, position=pos)

    calls = self.num_parallel_calls or tf.data.AUTOTUNE

    def map_fn(ds):
      ds = tfimage.safe_map(ds, load, size, calls)
      # (image, ok, file id, weight, position) -> drop the position.
      return ds.map(lambda img, ok, fid, w, pos: (img, ok, fid, w))

    return tfds_stream.map_and_batch(ds, map_fn, b, drop_remainder=True,
                                     prefetch_batches=self.prefetch_batches)

  def get_next(self) -> NestedMap:
    if self.reset_for_eval and self._step >= self.num_eval_batches():
      raise StopIteration(f'{self.name}: end of the {self.epoch_size()} eval '
                          'examples.')
    if self._iter is None:
      self._iter = iter(self._make_dataset(self._step).as_numpy_iterator())
    image, ok, files, weights = next(self._iter)
    self._tracker.record(files, ok, self._files)
    if self.is_training and ok.any() and not ok.all():
      rows = folders.fill_unreadable(ok)
      image, files = image[rows], files[rows]
    else:  # Eval, or a training batch without any readable image.
      weights = weights * ok
    batch = real.real_batch(image, self._labels[files])
    batch.label_probs = self._targets(files)
    batch = self._augment_and_pack(batch, weights, self._step,
                                   crop_done=True, flip_done=True)
    self._step += 1
    return batch

  def reset(self) -> None:
    super().reset()
    self._iter = None

  def _set_state_internal(self, state: bytes) -> None:
    super()._set_state_internal(state)
    self._iter = None
