# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Procedural scenes with per-pixel class and depth maps (dense tasks).

Pure numpy, no files. Each image is a pinhole-camera view of a few textured
shapes standing on a sloped ground plane under a plain sky:

* ground: the plane y = -h seen by a camera whose horizon is the (tilted)
  line v = v_h + tilt * u in normalized image coordinates (u, v in [-1, 1],
  v down). A ground pixel at v > v_h(u) lies at depth z = k / (v - v_h(u)),
  with k chosen so the bottom image row is `z_bottom` metres away. Above
  the horizon is sky.
* shapes: `SHAPES` of `procedural` (class c + 1 in the class map, 0 =
  background) with its textures and palette, each at a depth z drawn
  uniformly from `shape_depth`, standing on the ground (its lowest point
  on the ground row of depth z), drawn with radius `shape_scale` / z
  (nearer = larger) and painted far to near, so nearer shapes occlude
  farther ones. A shape is a fronto-parallel cut-out: its pixels have its
  depth z.
* style 'grey' (default): sky and ground are plain grey tones, dark or light
  as the classification images' backgrounds (`procedural` subgroups), the
  ground one step off the sky's tone; so a backbone pretrained on those
  images sees familiar backgrounds. Style 'outdoor': a coloured sky, a 1 m
  checkerboard on the ground (world position (u z, z)) whose contrast fades
  with distance, and fog blending every colour toward the sky by
  1 - exp(-z / FOG_DISTANCE).

Depth is learnable from the image: ground depth from the image row below
the visible horizon (and, outdoor, the checker's texture gradient and fog),
shape depth from apparent size and foot row. Depth is valid (`depth_valid`)
on shapes and on ground up to MAX_DEPTH; sky and ground beyond MAX_DEPTH
are invalid (depth 0 there), like the holes of a real depth sensor.

Every image is a pure function of (seed, split, index) through its own RNG
stream, at any size >= `procedural.MIN_IMAGE_SIZE` (16 px), square or not.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from vit22b_pax.data import procedural

# The shape outlines, textures and palette of the classification data.
# pylint: disable=protected-access
_SDF = procedural._SDF
_TEXTURE_FN = procedural._TEXTURE_FN
_RGB = procedural._RGB
_NOISE_GRID = procedural._NOISE_GRID
# pylint: enable=protected-access

SPLITS = ('train', 'test')
STYLES = ('grey', 'outdoor')
MAX_DEPTH = 10.0  # Metres; farther ground and the sky are invalid.
FOG_DISTANCE = 15.0  # Outdoor style.
_GLOBAL = 16  # Uniforms per image for the ground, sky and shape count.
_PER_SHAPE = 14 + _NOISE_GRID ** 2
_CHUNK_PIXELS = 1 << 17
_SHAPE_KEYS = ('kind', 'shape_depth', 'center_x', 'center_y', 'radius', 'angle',
               'texture', 'color', 'texture_color', 'period', 'phase',
               'jitter', 'noise', 'active')


def class_names(num_kinds: int) -> tuple[str, ...]:
  """('background', first `num_kinds` shape names)."""
  return ('background',) + procedural.SHAPES[:num_kinds]


def image_hw(image_size: int | Sequence[int]) -> tuple[int, int]:
  """int S -> (S, S); (H, W) -> (H, W); validated >= 16 px."""
  if isinstance(image_size, (int, np.integer)):
    hw = (int(image_size), int(image_size))
  else:
    hw = tuple(int(s) for s in image_size)
  if len(hw) != 2 or min(hw) < procedural.MIN_IMAGE_SIZE:
    raise ValueError(f'image_size={image_size!r} must be an int or (height, '
                     f'width) with every side >= {procedural.MIN_IMAGE_SIZE} '
                     'px.')
  return hw


@dataclasses.dataclass(frozen=True)
class DenseSceneGenerator:
  """Deterministic generator of images with class and depth maps.

  Attributes:
    num_kinds: shape kinds K (classes 1..K; 0 is background), <= 10.
    image_size: side S, or (height, width), each >= 16 px.
    min_shapes: fewest shapes per image (>= 0).
    max_shapes: most shapes per image (>= min_shapes, >= 1).
    style: 'grey' (plain grey sky and ground) or 'outdoor' (coloured sky,
      checkered ground, fog).
    shape_scale: apparent shape radius at 1 m, in half-image-height units
      (times a uniform 0.8..1.2 per shape).
    shape_depth: (nearest, farthest) shape depth in metres.
    seed: non-negative data set seed.
  """
  num_kinds: int = 8
  image_size: int | tuple[int, int] = 64
  min_shapes: int = 1
  max_shapes: int = 3
  style: str = 'grey'
  shape_scale: float = 1.6
  shape_depth: tuple[float, float] = (1.5, 4.5)
  seed: int = 0

  def __post_init__(self):
    if not 0 < self.num_kinds <= len(procedural.SHAPES):
      raise ValueError(f'num_kinds={self.num_kinds} must be in '
                       f'[1, {len(procedural.SHAPES)}].')
    image_hw(self.image_size)
    if not 0 <= self.min_shapes <= self.max_shapes or self.max_shapes < 1:
      raise ValueError(f'Need 0 <= min_shapes <= max_shapes and max_shapes '
                       f'>= 1, got min_shapes={self.min_shapes}, '
                       f'max_shapes={self.max_shapes}.')
    if self.style not in STYLES:
      raise ValueError(f'Unknown style={self.style!r}; expected one of '
                       f'{STYLES}.')
    near, far = self.shape_depth
    if not 0 < near <= far <= MAX_DEPTH or self.shape_scale <= 0:
      raise ValueError(
          f'Need 0 < shape_depth[0] <= shape_depth[1] <= {MAX_DEPTH} and '
          f'shape_scale > 0, got shape_depth={tuple(self.shape_depth)}, '
          f'shape_scale={self.shape_scale}.')
    if self.seed < 0:
      raise ValueError(f'seed={self.seed} must be >= 0.')

  @property
  def hw(self) -> tuple[int, int]:
    return image_hw(self.image_size)

  @property
  def num_classes(self) -> int:
    return self.num_kinds + 1

  def sample_attributes(self, indices: Sequence[int],
                        split: str = 'train') -> dict[str, np.ndarray]:
    """Per-image scene parameters of `indices` (no pixels).

    Shape slots are sorted far to near; unused slots have `active` False.

    Returns:
      Dict of [N] scene arrays (horizon, tilt, k, ground colours, sky,
      num_shapes) and [N, M] shape arrays (kind, shape_depth, center_x,
      center_y,
      radius, angle, texture, color, texture_color, period, phase, jitter
      [N, M, 2], noise [N, M, G, G], active), M = max_shapes.
    """
    if split not in SPLITS:
      raise ValueError(f'Unknown split={split!r}; expected one of {SPLITS}.')
    indices = np.asarray(indices, np.int64).reshape(-1)
    if np.any(indices < 0):
      raise ValueError(f'indices must be >= 0, got min {indices.min()}.')
    n, m, g = len(indices), self.max_shapes, _NOISE_GRID
    u = np.empty((n, _GLOBAL + m * _PER_SHAPE), np.float64)
    split_id = 16 + SPLITS.index(split)  # Disjoint from procedural's streams.
    for i, idx in enumerate(indices):
      u[i] = np.random.default_rng((self.seed, split_id, int(idx))).random(
          u.shape[1])
    ug, us = u[:, :_GLOBAL], u[:, _GLOBAL:].reshape(n, m, _PER_SHAPE)
    f32 = lambda x: np.asarray(x, np.float32)
    horizon = -0.85 + 0.6 * ug[:, 0]
    tilt = 0.24 * (ug[:, 1] - 0.5)
    z_bottom = 1.0 + 0.6 * ug[:, 2]
    k = z_bottom * (1.0 - horizon - np.abs(tilt))  # Bottom row at z_bottom.
    span = self.max_shapes - self.min_shapes + 1
    num_shapes = self.min_shapes + np.minimum((ug[:, 3] * span).astype(int),
                                              span - 1)
    nk, nc = self.num_kinds, len(procedural.COLORS)
    near, far = self.shape_depth
    depth = near + (far - near) * us[..., 1]
    active = np.arange(m)[None] < num_shapes[:, None]
    radius = self.shape_scale * (0.8 + 0.4 * us[..., 2]) / depth
    center_x = (2 * us[..., 3] - 1) * 0.9
    # Foot on the ground row of depth z, below the (tilted) horizon.
    foot = horizon[:, None] + tilt[:, None] * center_x + k[:, None] / depth
    color = np.minimum((us[..., 6] * nc).astype(np.int32), nc - 1)
    texture_color = ((color + 1 + np.minimum(
        (us[..., 7] * (nc - 1)).astype(np.int32), nc - 2)) % nc)
    # Far to near; unused slots first (painted with zero coverage).
    order = np.argsort(np.where(active, -depth, -np.inf), axis=1,
                       kind='stable')
    take = lambda a: np.take_along_axis(a, order.reshape(
        order.shape + (1,) * (a.ndim - 2)), axis=1)
    shapes = dict(  # Keys: _SHAPE_KEYS.
        kind=np.minimum((us[..., 0] * nk).astype(np.int32), nk - 1),
        shape_depth=f32(depth), center_x=f32(center_x),
        center_y=f32(foot - radius * 0.9), radius=f32(radius),
        angle=f32(2 * np.pi * us[..., 4]),
        texture=np.minimum((us[..., 5] * len(procedural.TEXTURES)).astype(
            np.int32), len(procedural.TEXTURES) - 1),
        color=color.astype(np.int32), texture_color=texture_color.astype(
            np.int32),
        period=f32(0.3 + 0.15 * us[..., 8]), phase=f32(us[..., 9]),
        jitter=f32(0.1 * (us[..., 10:12] - 0.5)),
        noise=f32(us[..., 14:].reshape(n, m, g, g)), active=active)
    shapes = {name: take(a) for name, a in shapes.items()}
    if self.style == 'outdoor':
      ground = 0.25 + 0.5 * ug[:, 4:10].reshape(n, 2, 3)  # Checker colours.
      sky = np.stack([0.55 + 0.3 * ug[:, 10], 0.65 + 0.25 * ug[:, 11],
                      0.8 + 0.2 * ug[:, 12]], axis=1)
    else:  # Dark or light grey, as the classification backgrounds.
      tone = np.where(ug[:, 4] < 0.5, 0.05 + 0.2 * ug[:, 5],
                      0.75 + 0.2 * ug[:, 5])
      sky = np.repeat(tone[:, None], 3, axis=1)
      off = np.where(tone < 0.5, 0.15, -0.15)[:, None, None]
      ground = np.broadcast_to(sky[:, None] + off, (n, 2, 3))
    return dict(horizon=f32(horizon), tilt=f32(tilt), k=f32(k),
                checker_phase=f32(ug[:, 13:15]), ground=f32(ground),
                sky=f32(sky), num_shapes=num_shapes.astype(np.int32),
                **shapes)

  def render(self, attrs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pixels of `sample_attributes` output.

    Returns:
      image [N, H, W, 3] float32 in [0, 1], label [N, H, W] int32 (0 =
      background, c + 1 = shape kind c), depth [N, H, W] float32 metres (0
      where invalid), depth_valid [N, H, W] bool.
    """
    n = len(attrs['horizon'])
    h, w = self.hw
    out = dict(image=np.empty((n, h, w, 3), np.float32),
               label=np.empty((n, h, w), np.int32),
               depth=np.empty((n, h, w), np.float32),
               depth_valid=np.empty((n, h, w), bool))
    chunk = max(1, _CHUNK_PIXELS // (h * w))
    for i in range(0, n, chunk):
      part = {k: v[i:i + chunk] for k, v in attrs.items()}
      for name, value in self._render_chunk(part).items():
        out[name][i:i + chunk] = value
    return out

  def _render_chunk(self, a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    h, w = self.hw
    n = len(a['horizon'])
    # Pixel centres; v spans [-1, 1] over the height, u keeps square pixels.
    v = ((np.arange(h, dtype=np.float32) + 0.5) * (2.0 / h) - 1.0)
    u = ((np.arange(w, dtype=np.float32) + 0.5) * (2.0 / h) - w / h)
    pixel = 2.0 / h
    col = lambda x: x[:, None, None]
    below = v[None, :, None] - (col(a['horizon']) + col(a['tilt']) *
                                u[None, None, :])  # [N, H, W]
    ground = below > 0
    z = np.where(ground, col(a['k']) / np.maximum(below, 1e-6), np.inf)
    # Checker on world (x, z) = (u z, z), contrast fading with distance.
    zg = np.where(ground, z, 0.0)
    gx = u[None, None, :] * zg + col(a['checker_phase'][:, 0])
    gz = zg + col(a['checker_phase'][:, 1])
    checker = (np.floor(gx) + np.floor(gz)) % 2
    fade = np.clip(1.0 - z / (0.8 * MAX_DEPTH), 0.0, 1.0)
    outdoor = self.style == 'outdoor'
    t = 0.5 + (checker - 0.5) * fade * outdoor  # 0/1 near, 0.5 far.
    g0, g1 = a['ground'][:, 0], a['ground'][:, 1]
    sky_rgb = a['sky']
    image = np.empty((n, h, w, 3), np.float32)
    for ch in range(3):
      ground_c = col(g0[:, ch]) + t * col(g1[:, ch] - g0[:, ch])
      sky_c = col(sky_rgb[:, ch]) * (1.0 - 0.25 * outdoor *
                                     (v[None, :, None] + 1.0))
      image[..., ch] = np.where(ground, self._fog(ground_c, z,
                                                  col(sky_rgb[:, ch])), sky_c)
    label = np.zeros((n, h, w), np.int32)
    depth = np.where(ground, z, np.inf).astype(np.float32)
    for j in range(a['kind'].shape[1]):
      s = {key: a[key][:, j] for key in _SHAPE_KEYS}
      alpha, tex = self._shape_layer(s, u, v, pixel)
      alpha *= col(s['active'].astype(np.float32))
      c1 = _RGB[s['color']] + s['jitter'][:, :1]
      c2 = _RGB[s['texture_color']] + s['jitter'][:, 1:]
      zs = col(s['shape_depth'])
      for ch in range(3):
        fg = col(c1[:, ch]) + tex * col(c2[:, ch] - c1[:, ch])
        fg = self._fog(fg, zs, col(sky_rgb[:, ch]))
        image[..., ch] += alpha * (fg - image[..., ch])
      inside = alpha >= 0.5
      label = np.where(inside, col(s['kind'] + 1), label)
      depth = np.where(inside, zs, depth)
    valid = depth <= MAX_DEPTH
    return dict(image=np.clip(image, 0.0, 1.0), label=label,
                depth=np.where(valid, depth, 0.0).astype(np.float32),
                depth_valid=valid)

  def _fog(self, color, z, sky):
    if self.style != 'outdoor':
      return color
    keep = np.exp(-np.minimum(z, 1e3) / FOG_DISTANCE)
    return color * keep + sky * (1.0 - keep)

  @staticmethod
  def _shape_layer(s, u, v, pixel):
    """Coverage alpha [N, H, W] and texture [N, H, W] of one shape slot."""
    r = s['radius'][:, None, None]
    dx = u[None, None, :] - s['center_x'][:, None, None]
    dy = v[None, :, None] - s['center_y'][:, None, None]
    cos = np.cos(s['angle'])[:, None, None]
    sin = np.sin(s['angle'])[:, None, None]
    x = (cos * dx + sin * dy) / r
    y = (-sin * dx + cos * dy) / r
    px = pixel / r
    period = np.maximum(s['period'][:, None, None], 3.0 * px)
    alpha = np.empty(x.shape, np.float32)
    tex = np.empty(x.shape, np.float32)
    for c in np.unique(s['kind']):
      sel = s['kind'] == c
      sd = _SDF[procedural.SHAPES[c]](x[sel], y[sel])
      alpha[sel] = np.clip(0.5 - sd / px[sel], 0.0, 1.0)
    for t in np.unique(s['texture']):
      sel = s['texture'] == t
      tex[sel] = _TEXTURE_FN[procedural.TEXTURES[t]](
          x[sel], y[sel], period[sel], s['phase'][sel, None, None],
          s['noise'][sel])
    return alpha, tex

  def generate(self, indices: Sequence[int],
               split: str = 'train') -> dict[str, np.ndarray]:
    """Attributes plus image, label, depth and depth_valid of `indices`."""
    attrs = self.sample_attributes(indices, split)
    attrs.update(self.render(attrs))
    return attrs
