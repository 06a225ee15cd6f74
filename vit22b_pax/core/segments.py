# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Splitting an array into consecutive segments with a cheap gradient.

`split_segments(a, sizes, axis)` is `jnp.split` at the sizes' running sums,
with a custom VJP: the gradient of a slice is a pad to the full shape, so
the default VJP of a split is one padded full-size copy per segment, summed
(XLA:CPU fuses them into one loop selecting among all segments for every
element, `core.hlo.data_movement` counts each pad at full size). Here the
gradient is written once, as one concatenation. The fused ViT-22B block
(`core.block`) splits its fused weights (or, for the ring collective
matmuls, its fused activation) with it. Needs only jax.
"""

from __future__ import annotations

import functools
import itertools

import jax
from jax import numpy as jnp


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2))
def split_segments(a: jax.Array, sizes: tuple[int, ...],
                   axis: int) -> tuple[jax.Array, ...]:
  """Consecutive slices of `a` along `axis`, with a concatenating VJP.

  Args:
    a: the array to split (e.g. w_in [D, N, E]).
    sizes: the segments' sizes along `axis` (a tuple: static); they must
      be positive and add up to its size.
    axis: the split axis.

  Returns:
    One array per segment.

  Raises:
    ValueError: the sizes do not add up to the axis' size, or one is not
      positive.
  """
  if not sizes or min(sizes) <= 0 or sum(sizes) != a.shape[axis]:
    raise ValueError(f'Segment sizes {sizes} must be positive and add up to '
                     f'dim {axis} of shape {tuple(a.shape)}.')
  ends = list(itertools.accumulate(sizes))
  return tuple(jax.lax.slice_in_dim(a, end - size, end, axis=axis)
               for size, end in zip(sizes, ends))


def _split_fwd(a, sizes, axis):
  return split_segments(a, sizes, axis), None


def _split_bwd(sizes, axis, residual, grads):
  del sizes, residual
  return (jnp.concatenate(grads, axis=axis),)


split_segments.defvjp(_split_fwd, _split_bwd)
