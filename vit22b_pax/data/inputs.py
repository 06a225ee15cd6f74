# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Praxis inputs for image classification / LiT batches.

Every input returns a per-host batch `NestedMap` with

  image:               [B, H, W, 3] float32 in [-1, 1]
  label:               [B] int32 class id (multi-label: smallest positive
                       class id, -1 when the image has none)
  label_probs:         [B, K] float32 targets (one-hot, k-hot for
                       multi-label data, or mixed by mixup)
  texture_label:       [B] int32 class whose preferred texture was drawn
                       (-1 for real data)
  subgroup:            [B] int32 fairness attribute (0 for real data)
  eval_sample_weights: [B] float32, 1 = real example, 0 = eval padding or
                       an unreadable image (weight 0 in the loss and in
                       every metric)
  caption_ids:         [B, L] int32 byte tokens (only with_captions)

Indexing (`IndexedImageInput`): global batch `step` covers example positions
[step*B*H, (step+1)*B*H) and host h reads the contiguous block of B positions
at step*B*H + h*B (`procedural.host_indices`), so hosts never overlap.

* Infinite data (`num_examples=0`, procedural only): position = example index.
* Finite data, `reset_for_eval=True`: one pass; the last global batch is
  padded with eval_sample_weights 0; then `get_next()` raises StopIteration
  on every host after the same number of batches. Pair it with
  `eval_loop_num_batches=-1` so paxml's eval loop runs to exhaustion.
* Finite data, `is_training`: repeats forever, reshuffled every epoch.
* Finite data otherwise: cycles in order, never raises.

Benchmark: `python -m vit22b_pax.data.inputs [out.json]` (images/s table).

Augmentations (`inception_crop`, `flip`, `mixup_alpha`) apply only when
`is_training`, with an RNG seeded by (seed, input_random_seed, host, step).
`get_state()` / `set_state()` save the step (praxis' `_get_state_internal`
/ `_set_state_internal`, which paxml's `enable_input_checkpointing` writes
per host): every batch is a function of (seed, step, host), so a restored
input yields bit-identical batches.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import jax
import numpy as np
from praxis import base_input
from praxis import py_utils

from vit22b_pax.data import augment
from vit22b_pax.data import captions
from vit22b_pax.data import procedural

NestedMap = py_utils.NestedMap


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
  """[B] int -> [B, K] float32 one-hot (all-zero rows for labels < 0)."""
  labels = np.asarray(labels)
  return (labels[:, None] == np.arange(num_classes)[None]).astype(np.float32)


class IndexedImageInput(base_input.BaseInput):
  """Base for inputs that load examples by integer index.

  Subclasses implement `_num_available()` (None = infinite) and
  `_load(indices)` returning a NestedMap with image [B, S, S, 3] float32 in
  [0, 1], label, texture_label, subgroup ([B] int32) and optionally valid
  ([B] bool, False for unreadable examples: they get weight 0).

  Attributes:
    num_classes: number of classes K (width of label_probs).
    image_size: output height = width in pixels.
    num_examples: examples per epoch; 0 = all available (infinite for the
      procedural data).
    seed: data set / shuffling / augmentation seed (>= 0).
    inception_crop: random-resized crop when is_training.
    flip: random left-right flip when is_training.
    mixup_alpha: mixup Beta concentration when is_training; 0 = off.
  """
  num_classes: int = 10
  image_size: int = 32
  num_examples: int = 0
  seed: int = 0
  inception_crop: bool = False
  flip: bool = False
  mixup_alpha: float = 0.0
  _step: int = dataclasses.field(init=False, repr=False, default=0)
  _perm_cache: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    super().__post_init__()
    if self.num_classes <= 0:
      raise ValueError(f'num_classes={self.num_classes} must be positive.')
    if self.image_size <= 0:
      raise ValueError(f'image_size={self.image_size} must be positive.')
    if self.num_examples < 0:
      raise ValueError(f'num_examples={self.num_examples} must be >= 0.')
    if self.seed < 0:
      raise ValueError(f'seed={self.seed} must be >= 0.')
    if self.mixup_alpha < 0:
      raise ValueError(f'mixup_alpha={self.mixup_alpha} must be >= 0.')
    if not 0 <= self.infeed_host_index < self.num_infeed_hosts:
      raise ValueError(f'infeed_host_index={self.infeed_host_index} must be in '
                       f'[0, {self.num_infeed_hosts}).')
    self._step = 0
    self._perm_cache = None

  def _num_available(self) -> int | None:
    raise NotImplementedError

  def _load(self, indices: np.ndarray) -> NestedMap:
    raise NotImplementedError

  def epoch_size(self) -> int | None:
    """Examples per epoch (None = infinite)."""
    available = self._num_available()
    if self.num_examples and available is not None:
      return min(self.num_examples, available)
    return self.num_examples or available

  def num_eval_batches(self) -> int | None:
    """get_next() calls per pass with reset_for_eval (None = infinite)."""
    size = self.epoch_size()
    if size is None:
      return None
    return math.ceil(size / (self.batch_size * self.num_infeed_hosts))

  def _epoch_permutation(self, epoch: int, size: int) -> np.ndarray:
    if self._perm_cache is None or self._perm_cache[0] != epoch:
      rng = np.random.default_rng((self.seed, 1, epoch))
      self._perm_cache = (epoch, rng.permutation(size))
    return self._perm_cache[1]

  def _indices(self, step: int) -> tuple[np.ndarray, np.ndarray]:
    """([B] example indices, [B] float32 weights) of this host at `step`."""
    pos = procedural.host_indices(step, self.batch_size,
                                  self.infeed_host_index, self.num_infeed_hosts)
    weights = np.ones(self.batch_size, np.float32)
    size = self.epoch_size()
    if size is None:
      return pos, weights
    if self.reset_for_eval:
      if step >= self.num_eval_batches():
        raise StopIteration(f'{self.name}: end of the {size} eval examples.')
      weights = (pos < size).astype(np.float32)
      return pos % size, weights
    if self.is_training:
      epochs, within = np.divmod(pos, size)
      idx = np.empty_like(pos)
      for e in np.unique(epochs):
        sel = epochs == e
        idx[sel] = self._epoch_permutation(int(e), size)[within[sel]]
      return idx, weights
    return pos % size, weights

  def get_next(self) -> NestedMap:
    idx, weights = self._indices(self._step)
    batch = self._load(idx)
    if 'valid' in batch:
      weights = weights * batch.pop('valid').astype(np.float32)
    crop_done = bool(batch.pop('crop_done', False))
    batch = self._augment_and_pack(batch, weights, self._step, crop_done)
    self._step += 1
    return batch

  def _augment_and_pack(self, batch: NestedMap, weights: np.ndarray,
                        step: int, crop_done: bool = False,
                        flip_done: bool = False) -> NestedMap:
    """Augments (is_training only) and converts to the documented keys.

    `batch.label_probs` ([B, K] k-hot, multi-label data) is kept when present,
    else one-hot targets are built from `batch.label`. `crop_done` /
    `flip_done`: the loader already took the Inception crop (on the
    full-resolution image) / the random flip.
    """
    image = batch.image
    if 'label_probs' in batch:
      label_probs = np.asarray(batch.label_probs, np.float32)
    else:
      label_probs = one_hot(batch.label, self.num_classes)
    if self.is_training:
      rng = np.random.default_rng(
          (self.seed, 2, self.input_random_seed or 0, self.infeed_host_index,
           step))
      if self.inception_crop and not crop_done:
        image = augment.inception_crop(image, rng, self.image_size)
      if self.flip and not flip_done:
        image = augment.random_flip_lr(image, rng)
      if self.mixup_alpha > 0:
        image, label_probs = augment.mixup(image, label_probs, rng,
                                           self.mixup_alpha)
    batch.image = np.asarray(image, np.float32) * 2.0 - 1.0
    batch.label = np.asarray(batch.label, np.int32)
    batch.label_probs = label_probs
    batch.texture_label = np.asarray(batch.texture_label, np.int32)
    batch.subgroup = np.asarray(batch.subgroup, np.int32)
    batch.eval_sample_weights = np.asarray(weights, np.float32)
    return batch

  def reset(self) -> None:
    super().reset()
    self._step = 0

  def _get_state_internal(self) -> bytes:
    return json.dumps({'step': self._step}).encode()

  def _set_state_internal(self, state: bytes) -> None:
    try:
      step = int(json.loads(bytes(state).decode())['step'])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
      raise ValueError(f'{self.name}: input state {bytes(state)[:60]!r} is '
                       'not a {"step": N} state of this input.') from e
    if step < 0:
      raise ValueError(f'{self.name}: input state step={step} must be >= 0.')
    self._step = step


class ProceduralInput(IndexedImageInput):
  """Procedural shape x texture images (`procedural.ShapeTextureGenerator`).

  Attributes:
    split: 'train', 'test' (held-out stream) or 'conflict' (cue conflict).
    texture_prob: probability of the label's preferred texture.
    subgroup_corr: probability that subgroup == label % 2.
    with_captions: also return caption_ids ('a striped red triangle').
    caption_length: caption token length L.
  """
  split: str = 'train'
  texture_prob: float = 0.9
  subgroup_corr: float = 0.5
  with_captions: bool = False
  caption_length: int = 32
  _generator: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    super().__post_init__()
    if self.split not in procedural.SPLITS:
      raise ValueError(f'Unknown split={self.split!r}; expected one of '
                       f'{procedural.SPLITS}.')
    if self.split == 'conflict' and self.num_classes < 2:
      raise ValueError("split='conflict' needs num_classes >= 2, got "
                       f'{self.num_classes}.')
    if self.reset_for_eval and not self.num_examples:
      raise ValueError('reset_for_eval=True needs a finite num_examples > 0, '
                       f'got num_examples={self.num_examples}.')
    if self.with_captions and self.caption_length <= 0:
      raise ValueError(f'caption_length={self.caption_length} must be > 0.')
    self._generator = procedural.ShapeTextureGenerator(
        num_classes=self.num_classes, image_size=self.image_size,
        texture_prob=self.texture_prob, subgroup_corr=self.subgroup_corr,
        seed=self.seed)

  def _num_available(self) -> int | None:
    return None

  def _load(self, indices: np.ndarray) -> NestedMap:
    gen = self._generator
    attrs = gen.generate(indices, self.split)
    batch = NestedMap(image=attrs['image'], label=attrs['label'],
                      texture_label=attrs['texture_label'],
                      subgroup=attrs['subgroup'])
    if self.with_captions:
      texts = captions.captions_for(gen.names(attrs))
      batch.caption_ids = captions.tokenize(texts, self.caption_length)
    return batch


class ImageInputSpecsProvider(base_input.BaseInputSpecsProvider):
  """Input specs of the inputs above without building a pipeline.

  Attributes:
    image_size: image height = width.
    num_classes: number of classes K.
    batch_size: per-host batch size B.
    with_captions: include caption_ids.
    caption_length: caption token length L.
  """
  image_size: int = 224
  num_classes: int = 1000
  batch_size: int = 1
  with_captions: bool = False
  caption_length: int = 32

  def get_input_specs(self) -> NestedMap:
    """NestedMap of jax.ShapeDtypeStruct with the keys of the inputs above."""
    for name in ('image_size', 'num_classes', 'batch_size'):
      if getattr(self, name) is None or getattr(self, name) <= 0:
        raise ValueError(f'{name}={getattr(self, name)} must be positive.')
    b, s = self.batch_size, self.image_size
    spec = lambda shape, dtype: jax.ShapeDtypeStruct(shape, dtype)
    specs = NestedMap(
        image=spec((b, s, s, 3), np.float32),
        label=spec((b,), np.int32),
        label_probs=spec((b, self.num_classes), np.float32),
        texture_label=spec((b,), np.int32),
        subgroup=spec((b,), np.int32),
        eval_sample_weights=spec((b,), np.float32))
    if self.with_captions:
      specs.caption_ids = spec((b, self.caption_length), np.int32)
    return specs


def _benchmark(path: str | None = None) -> list[dict[str, Any]]:
  """Images/s (wall and per CPU second) of ProceduralInput.get_next()."""
  import time  # pylint: disable=g-import-not-at-top
  rows = []
  for size, batch in ((32, 256), (224, 32)):
    for training in (False, True):
      inp = ProceduralInput(batch_size=batch, image_size=size,
                            is_training=training, inception_crop=training,
                            flip=training, mixup_alpha=0.2 * training)
      inp.get_next()
      start, cpu, steps = time.perf_counter(), time.process_time(), 0
      while time.perf_counter() - start < 2.0:
        inp.get_next()
        steps += 1
      n = steps * batch
      rows.append(dict(
          image_size=size, batch_size=batch, augment=training,
          images_per_s=round(n / (time.perf_counter() - start), 1),
          images_per_cpu_s=round(n / (time.process_time() - cpu), 1)))
  print(f'{"size":>5} {"batch":>6} {"augment":>8} {"images/s":>10} '
        f'{"images/cpu-s":>13}')
  for r in rows:
    print(f'{r["image_size"]:>5} {r["batch_size"]:>6} {r["augment"]!s:>8} '
          f'{r["images_per_s"]:>10} {r["images_per_cpu_s"]:>13}')
  if path:
    with open(path, 'w') as f:
      json.dump(rows, f, indent=1)
  return rows


if __name__ == '__main__':
  import sys  # pylint: disable=g-import-not-at-top
  _benchmark(sys.argv[1] if len(sys.argv) > 1 else None)
