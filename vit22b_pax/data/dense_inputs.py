# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Praxis inputs for dense prediction (segmentation and depth).

Every dense input returns a per-host batch `NestedMap` with

  image:               [B, H, W, 3] float32 in [-1, 1]
  label:               [B, H, W] int32 class id, IGNORE_LABEL (-1) where
                       unlabelled (segmentation inputs)
  depth:               [B, H, W] float32 metres, 0 where invalid (depth
                       inputs)
  depth_valid:         [B, H, W] float32, 1 where `depth` is a measurement
  eval_sample_weights: [B] float32, 1 = real example, 0 = eval padding

Indexing, eval padding, epochs and `get_state()` / `set_state()` are those
of `inputs.IndexedImageInput` (position = example index for the infinite
procedural data). The only augmentation is `flip` (left-right, applied to
the image and its maps together) when `is_training`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np
from praxis import base_input
from praxis import py_utils

from vit22b_pax.data import dense
from vit22b_pax.data import inputs

NestedMap = py_utils.NestedMap
IGNORE_LABEL = -1
_MAP_KEYS = ('label', 'depth', 'depth_valid')


class IndexedDenseInput(inputs.IndexedImageInput):
  """Base of dense inputs loading examples by index.

  Subclasses implement `_num_available()` and `_load(indices)` returning a
  NestedMap with image [B, H, W, 3] float32 in [0, 1], any of label [B, H,
  W] int, depth [B, H, W] float, depth_valid [B, H, W] bool, and optionally
  valid [B] bool (False: unreadable example, weight 0).

  Attributes:
    num_classes: segmentation classes K (including background, if any).
    image_size: output height in pixels.
    image_width: output width in pixels; 0 = image_size (square).
  """
  image_width: int = 0

  def __post_init__(self):
    super().__post_init__()
    if self.image_width < 0:
      raise ValueError(f'image_width={self.image_width} must be >= 0.')
    if self.inception_crop or self.mixup_alpha:
      raise ValueError(
          'Dense inputs support only flip; got inception_crop='
          f'{self.inception_crop}, mixup_alpha={self.mixup_alpha}.')

  @property
  def hw(self) -> tuple[int, int]:
    return (self.image_size, self.image_width or self.image_size)

  def get_next(self) -> NestedMap:
    idx, weights = self._indices(self._step)
    batch = self._load(idx)
    if 'valid' in batch:
      weights = weights * batch.pop('valid').astype(np.float32)
    batch = self._pack_dense(batch, weights, self._step)
    self._step += 1
    return batch

  def _pack_dense(self, batch: NestedMap, weights: np.ndarray,
                  step: int) -> NestedMap:
    """Flips (is_training) and converts to the documented keys."""
    out = NestedMap(image=np.asarray(batch.image, np.float32) * 2.0 - 1.0)
    if 'label' in batch:
      out.label = np.asarray(batch.label, np.int32)
    if 'depth' in batch:
      out.depth = np.asarray(batch.depth, np.float32)
      out.depth_valid = np.asarray(batch.depth_valid, np.float32)
    if self.is_training and self.flip:
      rng = np.random.default_rng(
          (self.seed, 2, self.input_random_seed or 0, self.infeed_host_index,
           step))
      flip = rng.random(len(weights)) < 0.5
      for key in ('image',) + _MAP_KEYS:
        if key in out:
          out[key] = np.where(
              flip.reshape((-1,) + (1,) * (out[key].ndim - 1)),
              out[key][:, :, ::-1], out[key])
    out.eval_sample_weights = np.asarray(weights, np.float32)
    return out


class DenseProceduralInput(IndexedDenseInput):
  """Procedural scenes with class and depth maps (`dense.DenseSceneGenerator`).

  Attributes:
    num_classes: K = shape kinds + 1 (background).
    split: 'train' or 'test' (held-out stream).
    min_shapes: fewest shapes per image.
    max_shapes: most shapes per image.
    style: 'grey' or 'outdoor' (see `dense.DenseSceneGenerator`).
    shape_scale: apparent shape radius at 1 m (half-image-height units).
    shape_depth: (nearest, farthest) shape depth in metres.
  """
  num_classes: int = 9
  split: str = 'train'
  min_shapes: int = 1
  max_shapes: int = 3
  style: str = 'grey'
  shape_scale: float = 1.6
  shape_depth: tuple[float, float] = (1.5, 4.5)
  _generator: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    super().__post_init__()
    if self.split not in dense.SPLITS:
      raise ValueError(f'Unknown split={self.split!r}; expected one of '
                       f'{dense.SPLITS}.')
    if self.num_classes < 2:
      raise ValueError(f'num_classes={self.num_classes} must be >= 2 '
                       '(background + at least one shape kind).')
    if self.reset_for_eval and not self.num_examples:
      raise ValueError('reset_for_eval=True needs a finite num_examples > 0, '
                       f'got num_examples={self.num_examples}.')
    self._generator = dense.DenseSceneGenerator(
        num_kinds=self.num_classes - 1, image_size=self.hw,
        min_shapes=self.min_shapes, max_shapes=self.max_shapes,
        style=self.style, shape_scale=self.shape_scale,
        shape_depth=tuple(self.shape_depth), seed=self.seed)

  @property
  def class_names(self) -> tuple[str, ...]:
    return dense.class_names(self.num_classes - 1)

  def _num_available(self) -> int | None:
    return None

  def _load(self, indices: np.ndarray) -> NestedMap:
    out = self._generator.generate(indices, self.split)
    return NestedMap(image=out['image'], label=out['label'],
                     depth=out['depth'], depth_valid=out['depth_valid'])


class DenseInputSpecsProvider(base_input.BaseInputSpecsProvider):
  """Input specs of the dense inputs without building a pipeline.

  Attributes:
    image_size: image height.
    image_width: image width; 0 = image_size.
    batch_size: per-host batch size B.
    with_label: include the class map.
    with_depth: include depth and depth_valid.
  """
  image_size: int = 224
  image_width: int = 0
  batch_size: int = 1
  with_label: bool = True
  with_depth: bool = True

  def get_input_specs(self) -> NestedMap:
    for name in ('image_size', 'batch_size'):
      if getattr(self, name) is None or getattr(self, name) <= 0:
        raise ValueError(f'{name}={getattr(self, name)} must be positive.')
    b, h, w = self.batch_size, self.image_size, (self.image_width or
                                                 self.image_size)
    spec = jax.ShapeDtypeStruct
    specs = NestedMap(image=spec((b, h, w, 3), np.float32),
                      eval_sample_weights=spec((b,), np.float32))
    if self.with_label:
      specs.label = spec((b, h, w), np.int32)
    if self.with_depth:
      specs.depth = spec((b, h, w), np.float32)
      specs.depth_valid = spec((b, h, w), np.float32)
    return specs

