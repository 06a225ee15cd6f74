# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Procedural video: textured shapes that move; the label needs the motion.

A clip is T frames of one shape (`procedural` rendering: texture, colours,
background tone) that either translates ('left', 'right', 'up', 'down') or
rotates in place ('clockwise', 'counterclockwise'). The label combines shape
and motion, label = shape_index * len(motions) + motion_index, e.g.
"triangle moving left". No single frame decides it:

* translation: a clip travels TRAVEL_MIN .. TRAVEL_MAX of the free span
  2 L (L = how far the centre may go from the image centre; a little less
  for even T, where the path is centred on frame T // 2) along its axis, at
  the constant speed travel / (T - 1) per frame, so speed adapts to T. Its
  position at the middle frame m = T // 2 is uniform over a range symmetric
  about the image centre that keeps the whole path in the image; the other
  coordinate is drawn the same way for an independent virtual travel, and
  rotating clips draw their fixed centre the same way, so the middle
  frame's position has one distribution for every motion. The shape keeps a
  random orientation.
* rotation: the angle changes by ROTATION_MIN .. ROTATION_MAX degrees per
  frame from a uniform start, below half the smallest symmetry angle of the
  default shapes (90 degrees), so the direction is visible between
  consecutive frames but not in one.

Every clip is a pure function of (seed, split, index), like the images of
`procedural.ShapeTextureGenerator`: any batch, host or resumed run sees the
same clip at the same index. `VideoInput` serves them as praxis batches:

  video:               [B, T, S, S, 3] float32 in [-1, 1]
  label:               [B] int32
  label_probs:         [B, K] float32 one-hot
  eval_sample_weights: [B] float32 (0 = eval padding)

No augmentation: a left-right flip would turn 'left' into 'right'.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import jax
import numpy as np
from praxis import base_input
from praxis import py_utils

from vit22b_pax.data import inputs
from vit22b_pax.data import procedural

NestedMap = py_utils.NestedMap

MOTIONS = ('left', 'right', 'up', 'down', 'clockwise', 'counterclockwise')
# Shapes whose rotation is visible (no continuous rotational symmetry).
VIDEO_SHAPES = ('triangle', 'square', 'heart', 'cross', 'star', 'crescent')
SPLITS = ('train', 'test')
RADIUS = (0.4, 0.5)  # Shape radius range, in half image widths.
TRAVEL_MIN, TRAVEL_MAX = 0.5, 1.0  # Of the free span (see above).
ROTATION_MIN, ROTATION_MAX = 12.0, 30.0  # Degrees per frame.
_DIRECTION = {'left': (-1, 0), 'right': (1, 0), 'up': (0, -1),
              'down': (0, 1)}  # Image y grows downwards.
_NUM_UNIFORMS = 18
_NOISE = 6


def class_names(shapes: Sequence[str], motions: Sequence[str]) -> list[str]:
  """'triangle moving left', ..., in label order."""
  names = []
  for s in shapes:
    for m in motions:
      verb = 'rotating' if m in ('clockwise', 'counterclockwise') else 'moving'
      names.append(f'{s} {verb} {m}')
  return names


def _check_names(kind: str, given: Sequence[str],
                 known: Sequence[str]) -> None:
  if not given:
    raise ValueError(f'{kind} must be non-empty; choose from {known}.')
  unknown = [g for g in given if g not in known]
  if unknown:
    raise ValueError(f'Unknown {kind} {unknown}; expected names from '
                     f'{tuple(known)}.')
  if len(set(given)) != len(given):
    raise ValueError(f'{kind} {tuple(given)} has duplicates.')


@dataclasses.dataclass(frozen=True)
class MovingShapeGenerator:
  """Deterministic generator of moving-shape clips.

  Attributes:
    num_frames: frames per clip T (>= 2).
    image_size: frame height = width (>= procedural.MIN_IMAGE_SIZE).
    shapes: shape names (from procedural.SHAPES; default VIDEO_SHAPES[:4]).
    motions: motion names from MOTIONS.
    seed: non-negative data set seed.
  """
  num_frames: int = 8
  image_size: int = 32
  shapes: tuple[str, ...] = VIDEO_SHAPES[:4]
  motions: tuple[str, ...] = MOTIONS
  seed: int = 0

  def __post_init__(self):
    if self.num_frames < 2:
      raise ValueError(f'num_frames={self.num_frames}: a motion needs at '
                       'least 2 frames.')
    if self.image_size < procedural.MIN_IMAGE_SIZE:
      raise ValueError(f'image_size={self.image_size} is too small; the '
                       f'minimum is {procedural.MIN_IMAGE_SIZE} px.')
    _check_names('shapes', self.shapes, procedural.SHAPES)
    _check_names('motions', self.motions, MOTIONS)
    if self.seed < 0:
      raise ValueError(f'seed={self.seed} must be >= 0.')

  @property
  def middle_frame(self) -> int:
    """The frame the single-frame baseline sees, T // 2."""
    return self.num_frames // 2

  @property
  def num_classes(self) -> int:
    return len(self.shapes) * len(self.motions)

  @property
  def class_names(self) -> list[str]:
    return class_names(self.shapes, self.motions)

  def sample_clips(self, indices: Sequence[int],
                   split: str = 'train') -> dict[str, np.ndarray]:
    """Per-clip attributes and per-frame geometry of `indices` in `split`.

    Returns:
      label, shape, motion [N] int32; center_x, center_y, angle [N, T]
      float32 (centre in half image widths, x right, y down; angle in
      radians); plus the per-clip rendering attributes of `procedural`.
    """
    if split not in SPLITS:
      raise ValueError(f'Unknown split={split!r}; expected one of {SPLITS}.')
    indices = np.asarray(indices, np.int64).reshape(-1)
    if np.any(indices < 0):
      raise ValueError(f'indices must be >= 0, got min {indices.min()}.')
    n, t = len(indices), self.num_frames
    u = np.empty((n, _NUM_UNIFORMS + _NOISE * _NOISE), np.float64)
    for i, idx in enumerate(indices):
      rng = np.random.default_rng(
          (self.seed, 7919, SPLITS.index(split), int(idx)))
      u[i] = rng.random(u.shape[1])
    k = self.num_classes
    label = np.minimum((u[:, 0] * k).astype(np.int32), k - 1)
    shape, motion = np.divmod(label, len(self.motions))
    radius = RADIUS[0] + (RADIUS[1] - RADIUS[0]) * u[:, 1]
    # The whole shape stays inside the frame: |centre| <= limit.
    limit = 0.97 - radius
    m, last = self.middle_frame, t - 1
    reach = max(m, last - m) / last  # Path fraction on the far side of m.
    rel = (np.arange(t) - m)[None, :] / last  # Time relative to frame m.
    names = np.asarray(self.motions)[motion]
    # Every clip draws two travel distances and, for each, a coordinate at
    # the middle frame uniform over the range that keeps such a path inside
    # the frame, |x_m| <= limit - reach * travel (symmetric). A translating
    # clip moves along the first; the two coordinates are i.i.d., so the
    # middle frame's position has one distribution for every motion
    # (rotations included) and tells nothing about it.
    # travel * reach <= TRAVEL_MAX * limit: never more than the free span.
    span = lambda v: (TRAVEL_MIN + (TRAVEL_MAX - TRAVEL_MIN) * v) * (
        limit / reach)
    travel, travel_across = span(u[:, 5]), span(u[:, 17])
    along = (limit - reach * travel) * (2 * u[:, 6] - 1)
    across = (limit - reach * travel_across) * (2 * u[:, 2] - 1)
    is_x = np.isin(names, ('left', 'right'))
    cx = np.where(is_x, along, across)[:, None] * np.ones((1, t))
    cy = np.where(is_x, across, along)[:, None] * np.ones((1, t))
    angle = np.repeat((2 * np.pi * u[:, 4])[:, None], t, 1)
    for mo, (dx, dy) in _DIRECTION.items():
      sel = names == mo
      path = (dx + dy) * travel[sel, None] * rel  # Constant speed.
      if dx:
        cx[sel] += path
      else:
        cy[sel] += path
    for mo, sign in (('clockwise', 1.0), ('counterclockwise', -1.0)):
      sel = names == mo
      step = np.deg2rad(ROTATION_MIN + (ROTATION_MAX - ROTATION_MIN) *
                        u[sel, 7])
      # procedural's object frame turns by +angle, which on screen (y down)
      # rotates the shape clockwise.
      angle[sel] += sign * step[:, None] * rel[0] * last
    nc = len(procedural.COLORS)
    color = np.minimum((u[:, 16] * nc).astype(np.int32), nc - 1)
    f32 = lambda x: np.asarray(x, np.float32)
    return dict(
        label=label.astype(np.int32), shape=shape.astype(np.int32),
        motion=motion.astype(np.int32),
        shape_id=np.asarray([procedural.SHAPES.index(self.shapes[s])
                             for s in shape], np.int32).reshape(n),
        texture=np.minimum((u[:, 8] * len(procedural.TEXTURES)).astype(
            np.int32), len(procedural.TEXTURES) - 1),
        color=color,
        texture_color=((color + 1 + np.minimum(
            (u[:, 9] * (nc - 1)).astype(np.int32), nc - 2)) % nc).astype(
                np.int32),
        radius=f32(radius), period=f32(0.3 + 0.15 * u[:, 10]),
        tone=f32(np.where(u[:, 11] < 0.5, 0.05 + 0.2 * u[:, 12],
                          0.75 + 0.2 * u[:, 12])),
        phase=f32(u[:, 13]), jitter=f32(0.1 * (u[:, 14:16] - 0.5)),
        noise=f32(u[:, _NUM_UNIFORMS:].reshape(n, _NOISE, _NOISE)),
        center_x=f32(cx), center_y=f32(cy), angle=f32(angle))

  def render(self, clips: dict[str, np.ndarray]) -> np.ndarray:
    """[N, T, S, S, 3] float32 frames in [0, 1]."""
    n, t = clips['center_x'].shape
    per_clip = ('texture', 'color', 'texture_color', 'radius', 'period',
                'tone', 'phase', 'jitter', 'noise')
    attrs = {key: np.repeat(clips[key], t, axis=0) for key in per_clip}
    attrs['label'] = np.repeat(clips['shape_id'], t)
    for key in ('center_x', 'center_y', 'angle'):
      attrs[key] = clips[key].reshape(n * t)
    gen = procedural.ShapeTextureGenerator(
        num_classes=len(procedural.SHAPES), image_size=self.image_size)
    frames = gen.render(attrs)
    return frames.reshape(n, t, self.image_size, self.image_size, 3)

  def generate(self, indices: Sequence[int],
               split: str = 'train') -> dict[str, np.ndarray]:
    """Clip attributes plus video [N, T, S, S, 3] in [0, 1]."""
    clips = self.sample_clips(indices, split)
    clips['video'] = self.render(clips)
    return clips


class VideoInputBase(inputs.IndexedImageInput):
  """Indexed clip inputs (indexing, eval padding, state as image inputs).

  Subclasses implement `_num_available()` and `_load(indices)` returning a
  NestedMap with video [B, T, S, S, 3] float32 in [0, 1], label [B] and
  optionally valid [B] bool.

  Attributes:
    num_frames: frames per clip T.
  """
  num_frames: int = 8

  def __post_init__(self):
    super().__post_init__()
    if self.num_frames < 1:
      raise ValueError(f'num_frames={self.num_frames} must be >= 1.')
    for name in ('inception_crop', 'flip'):
      if getattr(self, name):
        raise ValueError(f'{name}=True is not supported for video (a flip '
                         "would swap 'left' and 'right').")
    if self.mixup_alpha:
      raise ValueError('mixup_alpha is not supported for video.')

  def _augment_and_pack(self, batch: NestedMap, weights: np.ndarray,
                        step: int, crop_done: bool = False,
                        flip_done: bool = False) -> NestedMap:
    del step, crop_done, flip_done  # No augmentation for clips.
    out = NestedMap(
        video=np.asarray(batch.video, np.float32) * 2.0 - 1.0,
        label=np.asarray(batch.label, np.int32),
        label_probs=inputs.one_hot(batch.label, self.num_classes),
        eval_sample_weights=np.asarray(weights, np.float32))
    return out


class VideoInput(VideoInputBase):
  """Procedural moving-shape clips (`MovingShapeGenerator`).

  Attributes:
    split: 'train' or 'test' (disjoint streams).
    shapes: shape names.
    motions: motion names.
    num_classes: 0 = len(shapes) * len(motions) (any other value must equal
      it).
  """
  split: str = 'train'
  shapes: tuple[str, ...] = VIDEO_SHAPES[:4]
  motions: tuple[str, ...] = MOTIONS
  num_classes: int = 0
  _generator: Any = dataclasses.field(init=False, repr=False, default=None)

  def __post_init__(self):
    self._generator = MovingShapeGenerator(
        num_frames=self.num_frames, image_size=self.image_size,
        shapes=tuple(self.shapes), motions=tuple(self.motions),
        seed=self.seed)
    k = self._generator.num_classes
    if self.num_classes not in (0, k):
      raise ValueError(
          f'num_classes={self.num_classes} but {len(self.shapes)} shapes x '
          f'{len(self.motions)} motions make {k} classes.')
    self.num_classes = k
    if self.split not in SPLITS:
      raise ValueError(f'Unknown split={self.split!r}; expected one of '
                       f'{SPLITS}.')
    super().__post_init__()
    if self.reset_for_eval and not self.num_examples:
      raise ValueError('reset_for_eval=True needs a finite num_examples > 0, '
                       f'got num_examples={self.num_examples}.')

  @property
  def class_names(self) -> list[str]:
    return self._generator.class_names

  def _num_available(self) -> int | None:
    return None

  def _load(self, indices: np.ndarray) -> NestedMap:
    clips = self._generator.generate(indices, self.split)
    return NestedMap(video=clips['video'], label=clips['label'])


class VideoInputSpecsProvider(base_input.BaseInputSpecsProvider):
  """Input specs of the video inputs without building a pipeline.

  Attributes:
    num_frames: T.
    image_size: frame side S.
    num_classes: K.
    batch_size: per-host batch size B.
  """
  num_frames: int = 8
  image_size: int = 32
  num_classes: int = 0
  batch_size: int = 1

  def get_input_specs(self) -> NestedMap:
    for name in ('num_frames', 'image_size', 'num_classes', 'batch_size'):
      if getattr(self, name) is None or getattr(self, name) <= 0:
        raise ValueError(f'{name}={getattr(self, name)} must be positive.')
    b, t, s = self.batch_size, self.num_frames, self.image_size
    spec = jax.ShapeDtypeStruct
    return NestedMap(
        video=spec((b, t, s, s, 3), np.float32),
        label=spec((b,), np.int32),
        label_probs=spec((b, self.num_classes), np.float32),
        eval_sample_weights=spec((b,), np.float32))
