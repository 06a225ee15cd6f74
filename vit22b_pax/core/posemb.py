# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Resampling a learned position-embedding grid once, as the source does.

A ViT trained at one resolution and used at another needs its position
embedding table on the new patch grid. The two codebases whose checkpoints we
import resample once, at load time, each in its own way:

* big_vision (`vit.resample_posemb`): `scipy.ndimage.zoom(grid, (new/old,
  new/old, 1), order=1)`, i.e. linear interpolation with the corner samples
  of the old and new grids aligned (output sample i of n_out sits at input
  position i * (n_in - 1) / (n_out - 1)). Class-token entries are kept aside.
* timm (`resample_abs_pos_embed`, called from `checkpoint_filter_fn` with its
  defaults `interpolation='bicubic', antialias=True`): PyTorch's
  `F.interpolate(mode='bicubic', antialias=True, align_corners=False)`, whose
  antialiased path is PIL's resampling: a separable Keys cubic with a = -0.5,
  half-pixel centres, the kernel widened by the scale when shrinking, and the
  taps that fall outside the input dropped and the rest renormalised.

Both work on a [rows, cols, D] grid; `resample(grid, (rows', cols'),
method)` dispatches by name ('zoom' or 'bicubic').
"""

from __future__ import annotations

import numpy as np

METHODS = ('zoom', 'bicubic')


def _check_grid(grid: np.ndarray, new_shape) -> tuple[int, int]:
  if grid.ndim != 3:
    raise ValueError(f'Expected a position-embedding grid [rows, cols, D], '
                     f'got shape {tuple(grid.shape)}.')
  rows, cols = (int(v) for v in new_shape)
  if rows <= 0 or cols <= 0:
    raise ValueError(f'New grid {tuple(new_shape)} must be positive.')
  return rows, cols


def zoom(grid: np.ndarray, new_shape) -> np.ndarray:
  """big_vision's resampling: scipy.ndimage.zoom(order=1) of the grid.

  Args:
    grid: [rows, cols, D].
    new_shape: (rows', cols').

  Returns:
    [rows', cols', D] float32.
  """
  import scipy.ndimage  # pylint: disable=g-import-not-at-top
  rows, cols = _check_grid(grid, new_shape)
  if (rows, cols) == grid.shape[:2]:
    return np.asarray(grid, np.float32)
  factors = (rows / grid.shape[0], cols / grid.shape[1], 1)
  out = scipy.ndimage.zoom(np.asarray(grid, np.float32), factors, order=1)
  if out.shape[:2] != (rows, cols):  # zoom rounds shape * factor.
    raise ValueError(f'scipy zoom gave a {out.shape[:2]} grid for '
                     f'{(rows, cols)}.')
  return out


def _keys_cubic(x: np.ndarray, a: float = -0.5) -> np.ndarray:
  """Keys' cubic convolution kernel (a = -0.5: PIL, torch antialias=True)."""
  x = np.abs(x)
  near = ((a + 2) * x - (a + 3)) * x * x + 1
  far = ((x - 5) * x + 8) * x * a - 4 * a
  return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def antialiased_bicubic_matrix(n_in: int, n_out: int) -> np.ndarray:
  """[n_out, n_in] weights of one axis of torch's antialiased bicubic.

  Output sample i has centre c = (i + 0.5) * s with s = n_in / n_out; the
  kernel support is 2 * max(s, 1) input samples either side; taps j in
  [max(int(c - support + 0.5), 0), min(int(c + support + 0.5), n_in)) get
  cubic((j - c + 0.5) / max(s, 1)), normalised to sum to one.
  """
  scale = n_in / n_out
  stretch = max(scale, 1.0)
  support = 2.0 * stretch
  m = np.zeros((n_out, n_in), np.float64)
  for i in range(n_out):
    centre = scale * (i + 0.5)
    lo = max(int(centre - support + 0.5), 0)
    hi = min(int(centre + support + 0.5), n_in)
    taps = np.arange(lo, hi)
    w = _keys_cubic((taps - centre + 0.5) / stretch)
    total = w.sum()
    m[i, lo:hi] = w / total if total != 0 else w
  return m


def bicubic(grid: np.ndarray, new_shape) -> np.ndarray:
  """timm's resampling: torch bicubic interpolation with antialias=True.

  Args:
    grid: [rows, cols, D].
    new_shape: (rows', cols').

  Returns:
    [rows', cols', D] float32 (computed in float64).
  """
  rows, cols = _check_grid(grid, new_shape)
  if (rows, cols) == grid.shape[:2]:
    return np.asarray(grid, np.float32)
  mr = antialiased_bicubic_matrix(grid.shape[0], rows)
  mc = antialiased_bicubic_matrix(grid.shape[1], cols)
  out = np.einsum('ih,jw,hwd->ijd', mr, mc, np.asarray(grid, np.float64))
  return out.astype(np.float32)


def resample(grid: np.ndarray, new_shape, method: str) -> np.ndarray:
  """Resamples a [rows, cols, D] grid with 'zoom' or 'bicubic'."""
  if method == 'zoom':
    return zoom(grid, new_shape)
  if method == 'bicubic':
    return bicubic(grid, new_shape)
  raise ValueError(f'Unknown position-embedding resampling {method!r}; '
                   f'expected one of {METHODS}.')


def resample_table(table: np.ndarray, old_grid, new_grid,
                   method: str) -> np.ndarray:
  """A [1, rows*cols, D] table on `old_grid` -> [1, rows'*cols', D]."""
  old_grid = tuple(int(v) for v in old_grid)
  if table.ndim != 3 or table.shape[0] != 1 or (
      table.shape[1] != old_grid[0] * old_grid[1]):
    raise ValueError(
        f'Position embedding of shape {tuple(table.shape)} is not a '
        f'[1, {old_grid[0]}*{old_grid[1]}, D] table of the grid {old_grid}.')
  grid = table.reshape(old_grid[0], old_grid[1], table.shape[2])
  out = resample(grid, new_grid, method)
  return out.reshape(1, -1, table.shape[2])
