# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""TFDS image classification input on tf.data, resumable by iterator state.

Pipeline (per host):

  TFDS records of this host's shard (images still encoded)
    -> [train: repeat, shuffle(shuffle_buffer)] -> enumerate (position)
    -> parallel decode + Inception crop / resize + flip (`tfimage`, stateless
       seeds keyed by (seed, input_random_seed, host, position))
    -> batch -> prefetch

Sharding: host h reads `tfds.even_splits(split, num_infeed_hosts)[h]`
(disjoint). Training drops the remainder so hosts are equal; eval keeps every
example and pads each host to the same number of batches (weight 0), so
all hosts stop after `num_eval_batches()` calls and every example is counted
exactly once.

Targets: a scalar integer label feature gives one-hot label_probs; an integer
sequence feature (`tfds.features.Sequence(ClassLabel)`, e.g. VOC's 'labels')
gives k-hot label_probs (multi-label; `label` is then the smallest positive
id, -1 for none).

Resume: TFRecord shards have no random access, so the state is tf.data's own
iterator checkpoint (`iterator._save()`, as paxml's `SeqIOInput.get_state`),
prefixed with the step. It holds the shuffle buffer (encoded records: about
shuffle_buffer x mean record size, e.g. ~1.1 GB for ImageNet at 10,000) plus
the decoded images in flight (about (prefetch_batches + 1) batches) per host.
Lower shuffle_buffer / prefetch_batches to shrink it. TFDS auto-caching is off
so the state never contains a whole cached data set.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from typing import Any

import numpy as np
from praxis import py_utils
import tensorflow as tf

from vit22b_pax.data import folders
from vit22b_pax.data import inputs
from vit22b_pax.data import tfimage

NestedMap = py_utils.NestedMap
_STATE_MAGIC = b'vit22b_pax.TfdsInput.v1\0'
_SEED_MIX = 1_000_003


class TfdsInput(inputs.IndexedImageInput):
  """Any prepared TFDS image classification data set (never downloads).

  `num_examples` > 0 caps the examples per host. Eval images: shorter side
  -> image_size / crop_fraction, centre crop. Training: `inception_crop` on
  the full-resolution image, `flip`, `mixup_alpha` (numpy, on the batch).

  Attributes:
    dataset_name: TFDS name, e.g. 'imagenet2012:5.1.0'.
    data_dir: TFDS data dir (None = TFDS default).
    split: TFDS split, e.g. 'train', 'validation[:1000]'.
    image_key: feature with the image (encoded `tfds.features.Image` or a
      decoded uint8 tensor).
    label_key: feature with the integer label, or a sequence of integer
      labels (multi-label).
    shuffle_buffer: training shuffle buffer (encoded records).
    crop_fraction: eval centre-crop fraction (0.875: 256 -> 224).
    max_unreadable_fraction: raise once more than this fraction of the images
      read are undecodable (1.0 = never).
    num_parallel_calls: parallel decodes; 0 = tf.data.AUTOTUNE.
    prefetch_batches: batches prepared ahead.
  """
  dataset_name: str = ''
  data_dir: str | None = None
  split: str = 'train'
  image_key: str = 'image'
  label_key: str = 'label'
  shuffle_buffer: int = 10_000
  crop_fraction: float = 0.875
  max_unreadable_fraction: float = 0.5
  num_parallel_calls: int = 0
  prefetch_batches: int = 2
  _builder: Any = dataclasses.field(init=False, repr=False, default=None)
  _host_split: Any = dataclasses.field(init=False, repr=False, default=None)
  _host_sizes: Any = dataclasses.field(init=False, repr=False, default=None)
  _multi_label: Any = dataclasses.field(init=False, repr=False, default=None)
  _encoded: Any = dataclasses.field(init=False, repr=False, default=None)
  _iter: Any = dataclasses.field(init=False, repr=False, default=None)
  _tracker: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    super().__post_init__()
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    if not self.dataset_name:
      raise ValueError('TfdsInput needs dataset_name, e.g. "mnist".')
    if not 0.0 < self.crop_fraction <= 1.0:
      raise ValueError(f'crop_fraction={self.crop_fraction} must be in '
                       '(0, 1].')
    if self.shuffle_buffer <= 0:
      raise ValueError(f'shuffle_buffer={self.shuffle_buffer} must be > 0.')
    if self.num_parallel_calls < 0 or self.prefetch_batches < 0:
      raise ValueError(f'num_parallel_calls={self.num_parallel_calls} and '
                       f'prefetch_batches={self.prefetch_batches} must be '
                       '>= 0.')
    try:
      self._builder = tfds.builder(self.dataset_name, data_dir=self.data_dir)
      prepared = self._builder.is_prepared()
    except (tfds.core.DatasetNotFoundError, AssertionError) as e:
      raise ValueError(f'TFDS data set {self.dataset_name!r} not found in '
                       f'data_dir={self.data_dir!r}: {e}') from e
    if not prepared:
      raise ValueError(f'TFDS data set {self.dataset_name!r} (split '
                       f'{self.split!r}) not found in data_dir='
                       f'{self.data_dir!r}; prepare it first (no download '
                       'at run time).')
    features = self._builder.info.features
    for key in (self.image_key, self.label_key):
      if key not in features:
        raise ValueError(f'{self.dataset_name!r} has no feature {key!r}; '
                         f'features: {sorted(features.keys())}.')
    self._encoded = isinstance(features[self.image_key], tfds.features.Image)
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
    drop = not self.reset_for_eval
    splits = tfds.even_splits(self.split, n=self.num_infeed_hosts,
                              drop_remainder=drop)
    self._host_split = splits[self.infeed_host_index]
    try:
      self._host_sizes = [self._builder.info.splits[s].num_examples
                          for s in splits]
    except (KeyError, ValueError) as e:
      raise ValueError(f'Unknown split {self.split!r} of '
                       f'{self.dataset_name!r}: {e}') from e
    if self.num_examples:
      self._host_sizes = [min(n, self.num_examples) for n in self._host_sizes]
    if not min(self._host_sizes):
      raise ValueError(f'Split {self.split!r} of {self.dataset_name!r} has '
                       f'{sum(self._host_sizes)} examples: too few for '
                       f'{self.num_infeed_hosts} hosts.')
    self._tracker = folders.UnreadableTracker(
        self.name, f'{self.dataset_name}:{self._host_split}', None,
        self.max_unreadable_fraction,
        min_checked=min(folders.MIN_CHECKED, self._host_sizes[
            self.infeed_host_index]))
    self._iter = None

  @property
  def multi_label(self) -> bool:
    """True when the label feature is a sequence (k-hot label_probs)."""
    return self._multi_label

  def _num_available(self) -> int | None:
    return None

  def num_eval_batches(self) -> int | None:
    """get_next() calls per pass with reset_for_eval (None = infinite)."""
    if not self.reset_for_eval:
      return None
    return math.ceil(max(self._host_sizes) / self.batch_size)

  def _seed_base(self) -> int:
    return ((self.seed * _SEED_MIX + (self.input_random_seed or 0))
            * _SEED_MIX + self.infeed_host_index)

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

  def _make_dataset(self) -> tf.data.Dataset:
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    decoders = ({self.image_key: tfds.decode.SkipDecoding()}
                if self._encoded else None)
    ds = self._builder.as_dataset(
        split=self._host_split, shuffle_files=self.is_training,
        decoders=decoders,
        read_config=tfds.ReadConfig(shuffle_seed=self.seed,
                                    try_autocache=False))
    ds = ds.map(lambda ex: (ex[self.image_key], ex[self.label_key]))
    if self.num_examples:
      ds = ds.take(self.num_examples)
    base = self._seed_base()
    if self.is_training:
      ds = ds.repeat().shuffle(self.shuffle_buffer, seed=base)
    elif not self.reset_for_eval:
      ds = ds.repeat()
    ds = ds.enumerate().map(
        lambda pos, el: (el[0],) + self._targets(el[1]) + (pos,))
    size, training = self.image_size, self.is_training
    base_t = tf.constant(base, tf.int64)

    def load(raw, label, probs, pos):
      del label, probs
      return tfimage.preprocess(
          raw, size, training=training, inception_crop=self.inception_crop,
          flip=self.flip, crop_fraction=self.crop_fraction, seed_base=base_t,
          position=pos)

    ds = tfimage.safe_map(ds, load, size,
                          self.num_parallel_calls or tf.data.AUTOTUNE)
    ds = ds.batch(self.batch_size)
    if self.prefetch_batches:
      ds = ds.prefetch(self.prefetch_batches)
    options = tf.data.Options()
    options.deterministic = True
    return ds.with_options(options)

  def _ensure_iter(self):
    if self._iter is None:
      self._iter = iter(self._make_dataset())
    return self._iter

  def _padded(self, image, ok, label, probs, pos):
    """Pads a short (last eval) batch to batch_size rows of weight 0."""
    pad = self.batch_size - len(ok)
    if pad:
      image = np.concatenate([image, np.zeros(
          (pad,) + image.shape[1:], np.float32)])
      ok = np.concatenate([ok, np.zeros(pad, bool)])
      label = np.concatenate([label, np.full(pad, -1, np.int32)])
      probs = np.concatenate([probs, np.zeros(
          (pad, self.num_classes), np.float32)])
      pos = np.concatenate([pos, np.full(pad, -1, np.int64)])
    return image, ok, label, probs, pos

  def get_next(self) -> NestedMap:
    b = self.batch_size
    if self.reset_for_eval and self._step >= self.num_eval_batches():
      raise StopIteration(f'{self.name}: end of the eval examples.')
    try:
      image, ok, label, probs, pos = (
          t.numpy() for t in next(self._ensure_iter()))
      real = np.ones(len(ok), bool)
    except (StopIteration, tf.errors.OutOfRangeError):
      if not self.reset_for_eval:
        raise
      # This host ran out before the others: a batch of padding.
      image = np.zeros((0, self.image_size, self.image_size, 3), np.float32)
      ok, label = np.zeros(0, bool), np.zeros(0, np.int32)
      real = np.zeros(0, bool)
      probs, pos = np.zeros((0, self.num_classes), np.float32), np.zeros(
          0, np.int64)
    if len(real):
      self._tracker.record_stream(
          ok, [f'example #{p} of {self._tracker.where}' for p in pos])
    real = np.concatenate([real, np.zeros(b - len(real), bool)])
    image, ok, label, probs, pos = self._padded(image, ok, label, probs, pos)
    if self.is_training and ok.any() and not ok.all():
      rows = folders.fill_unreadable(ok)
      image, label, probs = image[rows], label[rows], probs[rows]
      weights = np.ones(b, np.float32)
    else:
      weights = (real & ok).astype(np.float32)
    batch = NestedMap(image=image, label=label, label_probs=probs,
                      texture_label=np.full(b, -1, np.int32),
                      subgroup=np.zeros(b, np.int32))
    batch = self._augment_and_pack(batch, weights, self._step,
                                   crop_done=True, flip_done=True)
    self._step += 1
    return batch

  def reset(self) -> None:
    super().reset()
    self._iter = None

  def _get_state_internal(self) -> bytes:
    return iterator_state(_STATE_MAGIC, (self._step,), self._ensure_iter())

  def _set_state_internal(self, state: bytes) -> None:
    self._iter, (self._step,) = restore_iterator(
        state, _STATE_MAGIC, 1, lambda: iter(self._make_dataset()), self.name,
        'TfdsInput')


def iterator_state(magic: bytes, counters: tuple[int, ...],
                   iterator: Any) -> bytes:
  """An input state: `magic`, the int64 `counters` (step, ...) and tf.data's
  own iterator checkpoint (`iterator._save()`, the mechanism of paxml's
  `SeqIOInput.get_state`)."""
  tf_state = iterator._save().numpy()  # pylint: disable=protected-access
  return (magic + struct.pack(f'>{len(counters)}q', *counters) +
          bytes(tf_state))


def restore_iterator(state: bytes, magic: bytes, num_counters: int,
                     make_iterator: Any, name: str,
                     kind: str) -> tuple[Any, tuple[int, ...]]:
  """Reads an `iterator_state`: checks it first (a state of another input is
  a `ValueError` naming input `name` and the expected `kind`), then builds a
  fresh iterator with `make_iterator()` and restores tf.data's checkpoint
  into it. Returns (iterator, counters)."""
  state = bytes(state)
  head = len(magic) + 8 * num_counters
  if not state.startswith(magic) or len(state) < head:
    raise ValueError(f'{name}: input state {state[:40]!r}... is not a '
                     f'{kind} state.')
  counters = struct.unpack(f'>{num_counters}q', state[len(magic):head])
  iterator = make_iterator()
  # pylint: disable-next=protected-access
  iterator._restore(tf.constant(state[head:]))
  return iterator, counters
