# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Procedural shape x texture images: the embedded default data set.

Pure numpy, no files. Each image is a textured shape on a plain background:

* label = the shape class `c` (index into `SHAPES`).
* texture: class `c` "prefers" texture `TEXTURES[c]`. In 'train'/'test' the
  preferred texture is used with probability `texture_prob`, otherwise the
  preferred texture of a uniformly drawn *other* class (so every texture used
  belongs to some class). In 'conflict' the texture is always the preferred
  texture of another class (a cue-conflict set, Geirhos et al. 2019).
  `texture_label` = the class whose preferred texture was drawn; it equals the
  texture index into `TEXTURES`.
* subgroup: background tone, 0 = dark, 1 = light. With probability
  `subgroup_corr` it equals `label % 2`, otherwise it is a fair coin.
* colours: foreground `COLORS[color]` with texture colour
  `COLORS[texture_color]` (a different palette entry), small jitter.
* position, scale, rotation: uniform; textures rotate with the shape.

Every image is a pure function of (seed, split, index): the split selects a
disjoint RNG stream ('test' is held out from 'train'), and the same index gives
the same image in any batch. Rendering is vectorised over the batch with
anti-aliased signed distances, so shapes stay legible down to
`MIN_IMAGE_SIZE` = 16 px.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

SHAPES = ('circle', 'square', 'triangle', 'star', 'cross', 'ring', 'hexagon',
          'heart', 'crescent', 'ellipse')
TEXTURES = ('stripes', 'dots', 'checker', 'waves', 'noise', 'grid', 'rings',
            'zigzag', 'speckle', 'bricks')
TEXTURE_ADJECTIVES = ('striped', 'dotted', 'checkered', 'wavy', 'mottled',
                      'gridded', 'ringed', 'zigzag', 'speckled', 'bricked')
COLORS = ('red', 'green', 'blue', 'yellow', 'orange', 'purple', 'cyan', 'pink')
_RGB = np.array([[0.86, 0.15, 0.15], [0.15, 0.70, 0.20], [0.15, 0.30, 0.90],
                 [0.95, 0.85, 0.10], [0.95, 0.50, 0.10], [0.55, 0.20, 0.75],
                 [0.10, 0.80, 0.85], [0.95, 0.45, 0.70]], np.float32)
SUBGROUPS = ('dark', 'light')
SPLITS = ('train', 'test', 'conflict')
MIN_IMAGE_SIZE = 16
_NOISE_GRID = 6  # Value-noise lattice for the 'noise' texture.
_NUM_UNIFORMS = 16
_CHUNK_PIXELS = 1 << 17


def _check_prob(name: str, value: float) -> None:
  if not 0.0 <= value <= 1.0:
    raise ValueError(f'{name}={value!r} must be a probability in [0, 1].')


def host_indices(step: int, batch_size: int, host_index: int = 0,
                 num_hosts: int = 1) -> np.ndarray:
  """Example indices of global batch `step` read by one host.

  Global batch `step` covers indices [step*B*H, (step+1)*B*H); host h takes the
  contiguous block [step*B*H + h*B, step*B*H + (h+1)*B), so hosts never
  overlap and together read every index exactly once.

  Args:
    step: global batch number (>= 0).
    batch_size: per-host batch size B.
    host_index: this host h in [0, H).
    num_hosts: number of hosts H.

  Returns:
    [B] int64 indices.
  """
  if batch_size <= 0 or num_hosts <= 0:
    raise ValueError(f'batch_size={batch_size} and num_hosts={num_hosts} must '
                     'be positive.')
  if not 0 <= host_index < num_hosts:
    raise ValueError(f'host_index={host_index} must be in [0, {num_hosts}).')
  start = (step * num_hosts + host_index) * batch_size
  return np.arange(start, start + batch_size, dtype=np.int64)


@dataclasses.dataclass(frozen=True)
class ShapeTextureGenerator:
  """Deterministic generator of shape-labelled, textured images.

  Attributes:
    num_classes: number of shape classes K, the first K of `SHAPES`.
    image_size: output height = width in pixels (>= MIN_IMAGE_SIZE).
    texture_prob: probability of the label's preferred texture (train/test).
    subgroup_corr: probability that subgroup == label % 2 (else random).
    seed: non-negative data set seed.
  """
  num_classes: int = 10
  image_size: int = 32
  texture_prob: float = 0.9
  subgroup_corr: float = 0.5
  seed: int = 0

  def __post_init__(self):
    if not 0 < self.num_classes <= len(SHAPES):
      raise ValueError(f'num_classes={self.num_classes} must be in '
                       f'[1, {len(SHAPES)}] (the number of SHAPES).')
    if self.image_size < MIN_IMAGE_SIZE:
      raise ValueError(f'image_size={self.image_size} is too small to draw a '
                       f'shape; the minimum is {MIN_IMAGE_SIZE} px.')
    _check_prob('texture_prob', self.texture_prob)
    _check_prob('subgroup_corr', self.subgroup_corr)
    if self.seed < 0:
      raise ValueError(f'seed={self.seed} must be >= 0.')

  def sample_attributes(self, indices: Sequence[int],
                        split: str = 'train') -> dict[str, np.ndarray]:
    """Draws the per-image attributes (no pixels) of `indices` in `split`.

    Returns:
      Dict of [N] arrays: label, texture, texture_label, subgroup, color,
      texture_color (int32) and the float32 geometry center_x, center_y,
      radius, angle, period, phase, tone, plus noise [N, G, G].
    """
    if split not in SPLITS:
      raise ValueError(f'Unknown split={split!r}; expected one of {SPLITS}.')
    k = self.num_classes
    if split == 'conflict' and k < 2:
      raise ValueError(f"split='conflict' needs num_classes >= 2, got {k}.")
    indices = np.asarray(indices, np.int64).reshape(-1)
    if np.any(indices < 0):
      raise ValueError(f'indices must be >= 0, got min {indices.min()}.')
    n, g = len(indices), _NOISE_GRID
    u = np.empty((n, _NUM_UNIFORMS + g * g), np.float64)
    split_id = SPLITS.index(split)
    for i, idx in enumerate(indices):
      rng = np.random.default_rng((self.seed, split_id, int(idx)))
      u[i] = rng.random(u.shape[1])
    label = np.minimum((u[:, 0] * k).astype(np.int32), k - 1)
    # Another class, uniformly: label + 1 + floor(u * (K - 1)) mod K.
    other = (label + 1 + np.minimum((u[:, 1] * (k - 1)).astype(np.int32),
                                    k - 2)) % k if k > 1 else label
    prob = 0.0 if split == 'conflict' else self.texture_prob
    texture = np.where(u[:, 2] < prob, label, other).astype(np.int32)
    subgroup = np.where(u[:, 3] < self.subgroup_corr, label % 2,
                        (u[:, 4] < 0.5)).astype(np.int32)
    nc = len(COLORS)
    color = np.minimum((u[:, 5] * nc).astype(np.int32), nc - 1)
    texture_color = ((color + 1 + np.minimum(
        (u[:, 6] * (nc - 1)).astype(np.int32), nc - 2)) % nc).astype(np.int32)
    radius = 0.55 + 0.3 * u[:, 7]
    slack = np.maximum(0.97 - radius, 0.0)
    tone = np.where(subgroup == 0, 0.05 + 0.2 * u[:, 12],
                    0.75 + 0.2 * u[:, 12])
    f32 = lambda x: np.asarray(x, np.float32)
    return dict(
        label=label, texture=texture, texture_label=texture.copy(),
        subgroup=subgroup, color=color, texture_color=texture_color,
        center_x=f32(slack * (2 * u[:, 8] - 1)),
        center_y=f32(slack * (2 * u[:, 9] - 1)), radius=f32(radius),
        angle=f32(2 * np.pi * u[:, 10]),
        period=f32(0.3 + 0.15 * u[:, 11]), tone=f32(tone),
        phase=f32(u[:, 13]), jitter=f32(0.1 * (u[:, 14:16] - 0.5)),
        noise=f32(u[:, _NUM_UNIFORMS:].reshape(n, g, g)))

  def render(self, attrs: dict[str, np.ndarray]) -> np.ndarray:
    """Renders attributes from `sample_attributes` to [N, S, S, 3] in [0, 1]."""
    n, s = len(attrs['label']), self.image_size
    out = np.empty((n, s, s, 3), np.float32)
    # Cache-sized chunks: ~2x faster than whole-batch temporaries at 224 px.
    chunk = max(1, _CHUNK_PIXELS // (s * s))
    for i in range(0, n, chunk):
      part = {k: v[i:i + chunk] for k, v in attrs.items()}
      out[i:i + chunk] = self._render_chunk(part)
    return out

  def _render_chunk(self, attrs: dict[str, np.ndarray]) -> np.ndarray:
    s = self.image_size
    n = len(attrs['label'])
    grid = (np.arange(s, dtype=np.float32) + 0.5) * (2.0 / s) - 1.0
    r = attrs['radius'][:, None, None]
    dx = grid[None, None, :] - attrs['center_x'][:, None, None]
    dy = grid[None, :, None] - attrs['center_y'][:, None, None]
    cos = np.cos(attrs['angle'])[:, None, None]
    sin = np.sin(attrs['angle'])[:, None, None]
    # Object-frame coordinates in units of the shape radius: [N, S, S].
    x = (cos * dx + sin * dy) / r
    y = (-sin * dx + cos * dy) / r
    pixel = (2.0 / s) / r  # One pixel in object units.
    # Textures are never thinner than ~3 pixels.
    period = np.maximum(attrs['period'][:, None, None], 3.0 * pixel)
    mask = np.empty((n, s, s), np.float32)
    tex = np.empty((n, s, s), np.float32)
    for c in np.unique(attrs['label']):
      sel = attrs['label'] == c
      sd = _SDF[SHAPES[c]](x[sel], y[sel])
      mask[sel] = np.clip(0.5 - sd / pixel[sel], 0.0, 1.0)
    for t in np.unique(attrs['texture']):
      sel = attrs['texture'] == t
      tex[sel] = _TEXTURE_FN[TEXTURES[t]](
          x[sel], y[sel], period[sel], attrs['phase'][sel, None, None],
          attrs['noise'][sel])
    c1 = _RGB[attrs['color']] + attrs['jitter'][:, :1]
    c2 = _RGB[attrs['texture_color']] + attrs['jitter'][:, 1:]
    bg = attrs['tone'][:, None]
    # out = bg + mask * (c1 + tex * (c2 - c1) - bg), one channel at a time.
    out = np.empty((n, s, s, 3), np.float32)
    for ch in range(3):
      fg = tex * (c2 - c1)[:, ch, None, None]
      fg += (c1[:, ch] - bg[:, 0])[:, None, None]
      fg *= mask
      fg += bg[:, :, None]
      out[..., ch] = fg
    return np.clip(out, 0.0, 1.0, out=out)

  def generate(self, indices: Sequence[int],
               split: str = 'train') -> dict[str, np.ndarray]:
    """Images and attributes of `indices`: attrs plus image [N, S, S, 3]."""
    attrs = self.sample_attributes(indices, split)
    attrs['image'] = self.render(attrs)
    return attrs

  def names(self, attrs: dict[str, np.ndarray]) -> list[dict[str, str]]:
    """Shape / texture / colour names per image (for captions)."""
    return [dict(shape=SHAPES[l], texture=TEXTURES[t],
                 texture_adjective=TEXTURE_ADJECTIVES[t], color=COLORS[c],
                 texture_color=COLORS[tc], subgroup=SUBGROUPS[g])
            for l, t, c, tc, g in zip(attrs['label'], attrs['texture'],
                                      attrs['color'], attrs['texture_color'],
                                      attrs['subgroup'])]


# Signed distances (negative inside) in object units; the shape spans ~[-1, 1].
def _polygon(x, y, sides, apothem):
  sector = 2 * np.pi / sides
  a = np.mod(np.arctan2(y, x) + np.pi / 2, sector) - sector / 2
  return np.cos(a) * np.hypot(x, y) - apothem


def _box(x, y, half_w, half_h):
  return np.maximum(np.abs(x) - half_w, np.abs(y) - half_h)


def _star(x, y):
  sector = 2 * np.pi / 5
  a = np.abs(np.mod(np.arctan2(y, x) + np.pi / 2, sector) - sector / 2)
  r = 0.42 + 0.58 * (1.0 - a / (sector / 2))  # Tip 1.0 to valley 0.42.
  return (np.hypot(x, y) - r) * 0.7


def _heart(x, y):
  h, y0 = 0.75, -0.08  # Diamond half-diagonal and centre; lobes on its sides.
  diamond = (np.abs(x) + np.abs(y - y0) - h) / np.sqrt(2)
  lobes = np.hypot(np.abs(x) - h / 2, y - (y0 + h / 2)) - h / np.sqrt(2)
  return np.minimum(diamond, lobes)


_SDF = {
    'circle': lambda x, y: np.hypot(x, y) - 0.9,
    'square': lambda x, y: _box(x, y, 0.7, 0.7),
    'triangle': lambda x, y: _polygon(x, y, 3, 0.5),
    'star': _star,
    'cross': lambda x, y: np.minimum(_box(x, y, 0.95, 0.32),
                                     _box(x, y, 0.32, 0.95)),
    'ring': lambda x, y: np.abs(np.hypot(x, y) - 0.68) - 0.3,
    'hexagon': lambda x, y: _polygon(x, y, 6, 0.8),
    'heart': _heart,
    'crescent': lambda x, y: np.maximum(
        np.hypot(x, y) - 0.95, 0.75 - np.hypot(x - 0.5, y + 0.1)),
    'ellipse': lambda x, y: (np.hypot(x, y / 0.5) - 0.95) * 0.5,
}


# Textures in [0, 1] (1 = texture colour) from object coordinates.
def _band(v, width=1.5):
  """Soft threshold of a [-1, 1] carrier at 0."""
  return np.clip(0.5 + width * v, 0.0, 1.0)


def _cells(x, y, p, phase):
  fx = _frac(x / p + phase) - 0.5
  fy = _frac(y / p + phase) - 0.5
  return fx, fy


def _value_noise(x, y, p, phase, noise):
  del p, phase
  n, g = noise.shape[0], noise.shape[1]
  gx = np.clip((x + 1.2) / 2.4 * (g - 1), 0, g - 1.001)
  gy = np.clip((y + 1.2) / 2.4 * (g - 1), 0, g - 1.001)
  ix, iy = gx.astype(np.int64), gy.astype(np.int64)
  wx, wy = gx - ix, gy - iy
  flat = noise.reshape(n, -1)
  at = lambda yy, xx: np.take_along_axis(
      flat, (yy * g + xx).reshape(n, -1), axis=1).reshape(x.shape)
  v = ((1 - wy) * ((1 - wx) * at(iy, ix) + wx * at(iy, ix + 1))
       + wy * ((1 - wx) * at(iy + 1, ix) + wx * at(iy + 1, ix + 1)))
  return _band((v - 0.5) * 4.0)


def _speckle(x, y, p, phase, noise):
  del noise
  q = p * 0.6
  cx, cy = np.floor(x / q), np.floor(y / q)
  h = _frac(np.sin(cx * 12.9898 + cy * 78.233 + phase * 100) * 43758.5453)
  fx, fy = _frac(x / q) - 0.5, _frac(y / q) - 0.5
  return _band((0.28 - np.hypot(fx, fy)) * 8.0) * (h > 0.5)


def _bricks(x, y, p, phase, noise):
  del noise
  row = np.floor(y / (p * 0.5) + phase)
  fy = _frac(y / (p * 0.5) + phase)
  fx = _frac(x / p + 0.5 * (row % 2))
  mortar = np.minimum(np.minimum(fy, 1 - fy), 2 * np.minimum(fx, 1 - fx))
  return _band((0.18 - mortar) * 8.0)


def _frac(v):
  return v - np.floor(v)


def _triangle_wave(v):
  return 2.0 * np.abs(_frac(v) - 0.5)


_TAU = 2 * np.pi
_TEXTURE_FN = {
    'stripes': lambda x, y, p, ph, nz: _band(np.sin(_TAU * (x / p + ph))),
    'dots': lambda x, y, p, ph, nz: _band(
        (0.3 - np.hypot(*_cells(x, y, p, ph))) * 8.0),
    'checker': lambda x, y, p, ph, nz: _band(
        np.sin(_TAU * (x / p + ph)) * np.sin(_TAU * (y / p + ph)) * 2.0),
    'waves': lambda x, y, p, ph, nz: _band(np.sin(
        _TAU * (y / p + ph + 0.35 * np.sin(_TAU * x / (2.5 * p))))),
    'noise': _value_noise,
    'grid': lambda x, y, p, ph, nz: _band(
        (np.maximum(*[np.abs(c) for c in _cells(x, y, p, ph)]) - 0.32) * 8.0),
    'rings': lambda x, y, p, ph, nz: _band(
        np.sin(_TAU * (np.hypot(x - 0.2, y + 0.1) / p + ph))),
    'zigzag': lambda x, y, p, ph, nz: _band(np.sin(
        _TAU * (y / p + ph + 0.6 * _triangle_wave(x / p)))),
    'speckle': _speckle,
    'bricks': _bricks,
}
assert tuple(_SDF) == SHAPES and tuple(_TEXTURE_FN) == TEXTURES
