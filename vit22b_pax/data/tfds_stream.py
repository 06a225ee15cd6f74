# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""The one tf.data stream of every TFDS input (image, dense, video).

`TfdsStreamInput` opens a prepared TFDS data set (never downloads) and runs

  this host's records (images still encoded)
    -> take(num_examples)
    -> train: `make_for_train`: repeat, shuffle(shuffle_buffer), enumerate,
       per-example map, batch (full batches only)
       eval / other: `make_for_inference`: [repeat unless reset_for_eval],
       enumerate, per-example map, batch (a short last batch)
    -> prefetch

(big_vision's `input_pipeline.make_for_train` / `make_for_inference`). Each
kind of input supplies only its per-example map, `_preprocess(position,
example) -> dict of tensors`, and turns the numpy batch into its batch
(`_make_batch`); `tfimage.safe_map`-style mapping can replace the plain map
(`_map_examples`).

Host split: host h reads `tfds.even_splits(split, num_infeed_hosts)[h]`
(disjoint). Training (and endless cycling) drops the remainder so hosts are
equal; evaluation (`reset_for_eval`) keeps every example: each host is
padded with rows of weight 0 up to the largest host's batch count
(`num_eval_batches()`), so all hosts stop together and every example is
counted exactly once.

Seeds: the file order (TFDS `shuffle_seed`) and the shuffle buffer are
seeded by `seed_base(seed, input_random_seed, host)`, so the experiment's
input seed changes the stream and every host shuffles differently.

Resume: TFRecord shards have no random access, so the state is tf.data's own
iterator checkpoint (`iterator._save()`, as paxml's `SeqIOInput.get_state`)
behind a magic string naming the input kind and the step
(`iterator_state` / `restore_iterator`). In training it holds the shuffle
buffer (encoded records: about shuffle_buffer x mean record size) and the
decoded examples in flight (about prefetch_batches + 1 batches) per host.
TFDS auto-caching is off so the state never holds a whole cached data set.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from typing import Any, Callable

import numpy as np
from praxis import py_utils
import tensorflow as tf

from vit22b_pax.data import inputs

NestedMap = py_utils.NestedMap
# Mixes the user seeds (and the host) into one int64 seed word.
_SEED_MIX = 1_000_003


def seed_base(seed: int, input_random_seed: int | None,
              host: int | None = None) -> int:
  """The int64 word every shuffle and per-example stateless seed starts
  from: (seed, input_random_seed[, host])."""
  base = int(seed) * _SEED_MIX + int(input_random_seed or 0)
  return base if host is None else base * _SEED_MIX + int(host)


def map_and_batch(ds: tf.data.Dataset, map_fn: Callable[..., Any],
                  batch_size: int, *, drop_remainder: bool,
                  prefetch_batches: int) -> tf.data.Dataset:
  """Per-example map (a `Dataset -> Dataset` function), batch, prefetch, and
  deterministic order: the stage every tf.data input shares."""
  ds = map_fn(ds).batch(batch_size, drop_remainder=drop_remainder)
  if prefetch_batches:
    ds = ds.prefetch(prefetch_batches)
  options = tf.data.Options()
  options.deterministic = True
  return ds.with_options(options)


def make_for_train(ds: tf.data.Dataset, map_fn: Callable[..., Any],
                   batch_size: int, *, shuffle_buffer: int, seed: int,
                   prefetch_batches: int) -> tf.data.Dataset:
  """Endless shuffled batches of (position, example) mapped by `map_fn`."""
  ds = ds.repeat().shuffle(shuffle_buffer, seed=seed).enumerate()
  return map_and_batch(ds, map_fn, batch_size, drop_remainder=True,
                       prefetch_batches=prefetch_batches)


def make_for_inference(ds: tf.data.Dataset, map_fn: Callable[..., Any],
                       batch_size: int, *, repeat: bool,
                       prefetch_batches: int) -> tf.data.Dataset:
  """Batches in stored order; one pass (a short last batch) unless
  `repeat`."""
  if repeat:
    ds = ds.repeat()
  return map_and_batch(ds.enumerate(), map_fn, batch_size,
                       drop_remainder=False, prefetch_batches=prefetch_batches)


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


class TfdsStreamInput(inputs.IndexedImageInput):
  """Base of the TFDS inputs: opens the data set and runs the stream.

  Subclasses set `_KIND` (their class name, for errors) and `_STATE_MAGIC`
  and implement `_feature_keys()`, `_preprocess(position, example)` and
  `_make_batch(arrays, real)`; `_check_features(features)` may check the
  features first. `num_examples` > 0 caps the examples per host.

  Attributes:
    dataset_name: TFDS name, e.g. 'imagenet2012:5.1.0'.
    data_dir: TFDS data dir (None = TFDS default).
    split: TFDS split, e.g. 'train', 'validation[:1000]'.
    shuffle_buffer: training shuffle buffer (encoded records).
    num_parallel_calls: parallel per-example maps; 0 = tf.data.AUTOTUNE.
    prefetch_batches: batches prepared ahead.
  """
  _KIND = 'TfdsStreamInput'
  _STATE_MAGIC = b'vit22b_pax.TfdsStreamInput.v1\0'
  _EXAMPLE_NAME = 'mnist'
  dataset_name: str = ''
  data_dir: str | None = None
  split: str = 'train'
  shuffle_buffer: int = 1000
  num_parallel_calls: int = 0
  prefetch_batches: int = 2
  _builder: Any = dataclasses.field(init=False, repr=False, default=None)
  _host_split: Any = dataclasses.field(init=False, repr=False, default=None)
  _host_sizes: Any = dataclasses.field(init=False, repr=False, default=None)
  _iter: Any = dataclasses.field(init=False, repr=False, default=None)
  _spec: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    super().__post_init__()
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    if not self.dataset_name:
      raise ValueError(f'{self._KIND} needs dataset_name, e.g. '
                       f'{self._EXAMPLE_NAME!r}.')
    if self.shuffle_buffer <= 0:
      raise ValueError(f'shuffle_buffer={self.shuffle_buffer} must be > 0.')
    if self.num_parallel_calls < 0 or self.prefetch_batches < 0:
      raise ValueError(f'num_parallel_calls={self.num_parallel_calls} and '
                       f'prefetch_batches={self.prefetch_batches} must be '
                       '>= 0.')
    where = (f'TFDS data set {self.dataset_name!r} (split {self.split!r}) '
             f'not found in data_dir={self.data_dir!r}')
    try:
      self._builder = tfds.builder(self.dataset_name, data_dir=self.data_dir)
      prepared = self._builder.is_prepared()
    except (tfds.core.DatasetNotFoundError, AssertionError) as e:
      raise ValueError(f'{where}: {e}') from e
    if not prepared:
      raise ValueError(f'{where}; prepare it first (no download at run '
                       'time).')
    features = self._builder.info.features
    for key in self._feature_keys():
      if key not in features:
        raise ValueError(f'{self.dataset_name!r} has no feature {key!r}; '
                         f'features: {sorted(features.keys())}.')
    self._check_features(features)
    splits = tfds.even_splits(self.split, n=self.num_infeed_hosts,
                              drop_remainder=not self.reset_for_eval)
    self._host_split = splits[self.infeed_host_index]
    try:
      sizes = [self._builder.info.splits[s].num_examples for s in splits]
    except (KeyError, ValueError) as e:
      raise ValueError(f'Unknown split {self.split!r} of '
                       f'{self.dataset_name!r}: {e}') from e
    if self.num_examples:
      sizes = [min(n, self.num_examples) for n in sizes]
    if not min(sizes):
      raise ValueError(f'Split {self.split!r} of {self.dataset_name!r} has '
                       f'{sum(sizes)} examples: too few for '
                       f'{self.num_infeed_hosts} hosts.')
    self._host_sizes = sizes
    self._iter = None

  # --- What each kind of input supplies. ---

  def _feature_keys(self) -> tuple[str, ...]:
    """The features read (each must exist)."""
    raise NotImplementedError

  def _check_features(self, features: Any) -> None:
    """Checks the TFDS FeaturesDict (after the keys were found)."""
    del features

  def _preprocess(self, position: tf.Tensor, example: dict[str, Any]
                  ) -> dict[str, tf.Tensor]:
    """One example -> a dict of tensors of static shape (but the batch)."""
    raise NotImplementedError

  def _map_examples(self, ds: tf.data.Dataset) -> tf.data.Dataset:
    """(position, example) -> `_preprocess` output, in order."""
    return ds.map(self._preprocess, deterministic=True,
                  num_parallel_calls=self.num_parallel_calls or
                  tf.data.AUTOTUNE)

  def _make_batch(self, arrays: dict[str, np.ndarray],
                  real: np.ndarray) -> NestedMap:
    """The numpy batch (padded to batch_size rows of zeros) -> the batch;
    `real` [B] bool is False on padding rows."""
    raise NotImplementedError

  # --- The stream. ---

  @property
  def host_sizes(self) -> tuple[int, ...]:
    """Examples each host reads in one pass (after num_examples)."""
    return tuple(self._host_sizes)

  def _num_available(self) -> int | None:
    return None

  def num_eval_batches(self) -> int | None:
    """get_next() calls per pass with reset_for_eval (None = infinite)."""
    if not self.reset_for_eval:
      return None
    return math.ceil(max(self._host_sizes) / self.batch_size)

  def _seed(self) -> int:
    return seed_base(self.seed, self.input_random_seed,
                     self.infeed_host_index)

  def _make_dataset(self) -> tf.data.Dataset:
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    features = self._builder.info.features
    keys = self._feature_keys()
    skip = {k: tfds.decode.SkipDecoding() for k in keys
            if isinstance(features[k], tfds.features.Image)}
    ds = self._builder.as_dataset(
        split=self._host_split, shuffle_files=self.is_training,
        decoders=skip or None,
        read_config=tfds.ReadConfig(shuffle_seed=self._seed(),
                                    try_autocache=False))
    ds = ds.map(lambda ex: {k: ex[k] for k in keys})
    if self.num_examples:
      ds = ds.take(self.num_examples)
    if self.is_training:
      ds = make_for_train(ds, self._map_examples, self.batch_size,
                          shuffle_buffer=self.shuffle_buffer,
                          seed=self._seed(),
                          prefetch_batches=self.prefetch_batches)
    else:
      ds = make_for_inference(ds, self._map_examples, self.batch_size,
                              repeat=not self.reset_for_eval,
                              prefetch_batches=self.prefetch_batches)
    self._spec = ds.element_spec
    return ds

  def _ensure_iter(self):
    if self._iter is None:
      self._iter = iter(self._make_dataset())
    return self._iter

  def _next_arrays(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The next batch as numpy, padded to batch_size rows; real [B]."""
    b = self.batch_size
    try:
      arrays = {k: v.numpy() for k, v in next(self._ensure_iter()).items()}
    except (StopIteration, tf.errors.OutOfRangeError):
      if not self.reset_for_eval:
        raise
      # This host ran out before the others: a batch of padding.
      arrays = {k: np.zeros([0] + s.shape[1:].as_list(),
                            s.dtype.as_numpy_dtype)
                for k, s in self._spec.items()}
    n = len(next(iter(arrays.values())))
    arrays = {k: np.concatenate([v, np.zeros((b - n,) + v.shape[1:],
                                             v.dtype)])
              for k, v in arrays.items()}
    return arrays, np.arange(b) < n

  def get_next(self) -> NestedMap:
    if self.reset_for_eval and self._step >= self.num_eval_batches():
      raise StopIteration(f'{self.name}: end of the eval examples of '
                          f'{self.dataset_name} {self.split}.')
    batch = self._make_batch(*self._next_arrays())
    self._step += 1
    return batch

  def reset(self) -> None:
    super().reset()
    self._iter = None

  def _get_state_internal(self) -> bytes:
    return iterator_state(self._STATE_MAGIC, (self._step,),
                          self._ensure_iter())

  def _set_state_internal(self, state: bytes) -> None:
    self._iter, (self._step,) = restore_iterator(
        state, self._STATE_MAGIC, 1, lambda: iter(self._make_dataset()),
        self.name, self._KIND)
