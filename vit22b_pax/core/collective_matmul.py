# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Collective matmuls: ring all-gather-matmul and matmul-reduce-scatter.

"Asynchronous parallel linear operations" of ViT-22B (Dehghani et al. 2023,
§3; Wang et al., ASPLOS 2023). For `y = einsum(eqn, x, w)` with activations x
and weight w both sharded over the k devices of one mesh axis, the collective
(all-gather of x, or reduce-scatter of y) is split into k ring steps: each
step multiplies the block a device holds while `jax.lax.ppermute` passes a
block (or a partial sum) to the neighbour, so communication hides behind the
next block's matmul. Imports only jax (runs on jax 0.4.26 and current jax).

Every function here is per-shard: call it inside `shard_map` (see
`vit22b_pax.core.compat.shard_map`) with `axis_name` bound. Equations are
explicit (no '...'); one letter names the sharded dim:

* `all_gather_matmul(x, w, eqn, letter)`: x holds block `i` of the
  contracted dim `letter`, w holds all of it (w is typically sharded on an
  output dim). Returns `einsum(eqn, all_gather(x), w)`. Moves x.
* `matmul_reduce_scatter(x, w, eqn, letter)`: x and w hold matching blocks of
  the contracted dims, w holds all of output dim `letter`. Returns block `i`
  of `psum(einsum(eqn, x, w))` along `letter`. Moves partial sums of y.

Gradients reuse the overlapped rings (`jax.custom_vjp`), k - 1 permutes per
ring (bidirectional: k // 2 + (k - 1) // 2 in two directions):
* all-gather-matmul: dx is a matmul-reduce-scatter of dy (dx partial sums
  travel) and dw a ring all-gather of x (the deliberate re-gather: only the
  local x block is saved for the backward, not the gathered one);
* matmul-reduce-scatter: ONE ring of dy blocks; each step computes both the
  dx partial sum and the dw block of the dy block it holds.
So a layer with one of each moves 5 activation-sized blocks per device where
XLA's all-gather + reduce-scatter partitioning moves 4 (it keeps the gathered
x; the fifth is the re-gather).

Merge guard: each step's matmul operands pass through an
`optimization_barrier` together with the value that step's permute sends
(reduce-scatter: the running partial sum) or the previous step's matmul
result (all-gather). The k matmuls of a ring thus form one dependency chain:
XLA cannot hoist them above the ring or merge them into one matmul (GPU's
DotMerger merges independent dots that share an operand), and each can still
start as soon as its step's permute starts.

`accum_dtype` (e.g. float32 for bfloat16 operands): partial sums of the
reduce-scatter rings are kept and sent in this dtype and rounded once at the
end (2x the bytes of bf16 partial sums); None keeps the operand dtype, so a
bf16 partial sum is rounded at every hop. Each partial matmul accumulates in
float32 either way.

`bidirectional=True` sends blocks both ways round the ring: k//2 steps going
up and (k-1)//2 going down, so both links of each device carry traffic and the
ring takes about half as many steps. Loops are unrolled python loops: k is the
model-axis size (small), and unrolling leaves XLA's scheduler free to overlap
each ppermute with the step's matmul.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp

from vit22b_pax.core import compat

JTensor = jax.Array


def split_eqn(eqn: str) -> tuple[str, str, str]:
  """'ab,bc->ac' -> ('ab', 'bc', 'ac'); ValueError for other shapes."""
  if '->' not in eqn or eqn.count(',') != 1 or '.' in eqn:
    raise ValueError(
        f'Expected an explicit two-operand einsum "xs,ws->ys" without "...", '
        f'got {eqn!r}.')
  ins, out = eqn.replace(' ', '').split('->')
  a, b = ins.split(',')
  return a, b, out


def axis_size(axis_name: str) -> int:
  """Static size of a bound mesh axis (inside shard_map)."""
  return compat.axis_size(axis_name)


def check_divisible(dim: int, k: int, what: str) -> None:
  """Raises ValueError unless `dim` splits into `k` equal blocks."""
  if dim % k:
    raise ValueError(
        f'{what} has size {dim}, which is not divisible by the {k} devices '
        f'of the model axis ({dim} % {k} = {dim % k}).')


def _shift(x: JTensor, axis_name: str, k: int, offset: int) -> JTensor:
  """Sends x from device i to device (i + offset) % k."""
  return jax.lax.ppermute(
      x, axis_name, perm=[(i, (i + offset) % k) for i in range(k)])


def _slice(x: JTensor, spec: str, letter: str, j, size: int) -> JTensor:
  """Block j (of `size`) of x along the dim named `letter`."""
  return jax.lax.dynamic_slice_in_dim(x, j * size, size, spec.index(letter))


def _tie(operands, after):
  """`operands`, but not computable before `after` (merge guard)."""
  if after is None:
    return operands
  return compat.optimization_barrier((operands, after))[0]


def _ring_gather(blk: JTensor, axis_name: str, bidirectional: bool,
                 use: Callable[[JTensor, Any], Any]) -> None:
  """Calls use(block, j) for the blocks j of all k devices, ring-passed.

  Each received block goes to `use` tied to the previous `use` result, so
  the k calls form one chain; the permutes send the untied blocks.
  """
  k = axis_size(axis_name)
  idx = jax.lax.axis_index(axis_name)
  last = use(blk, idx)
  if not bidirectional:
    cur = blk
    for s in range(1, k):
      cur = _shift(cur, axis_name, k, +1)  # now holds block of idx - s
      last = use(_tie(cur, last), (idx - s) % k)
    return
  up = down = blk
  for s in range(1, k // 2 + 1):
    up = _shift(up, axis_name, k, +1)  # block of idx - s
    if s <= (k - 1) // 2:
      down = _shift(down, axis_name, k, -1)  # block of idx + s
    last = use(_tie(up, last), (idx - s) % k)
    if s <= (k - 1) // 2:
      last = use(_tie(down, last), (idx + s) % k)


def _einsum32(eqn, a, b):
  return jnp.einsum(eqn, a, b, preferred_element_type=jnp.float32)


def ring_gather_einsum(eqn: str, g: JTensor, other: JTensor, letter: str,
                       axis_name: str, bidirectional: bool = False) -> JTensor:
  """einsum(eqn, all_gather(g, letter), other), overlapped with ppermute.

  Args:
    eqn: explicit two-operand einsum; the first operand is the gathered one.
    g: local block of the gathered operand, sharded on `letter`.
    other: local second operand. If it has `letter` it holds the whole dim
      and `letter` is contracted (sliced per step, summed in float32);
      otherwise `letter` must be an output dim and each step writes one
      output block.
    letter: the sharded dim of `g`.
    axis_name: the ring's mesh axis.
    bidirectional: pass blocks both ways round the ring.

  Returns:
    The local result (not sharded on `letter`).
  """
  gs, os_, out = split_eqn(eqn)
  k = axis_size(axis_name)
  b = g.shape[gs.index(letter)]
  dtype = jnp.result_type(g, other)
  parts = []
  if letter in os_ and letter not in out:
    n = other.shape[os_.index(letter)]
    if n != b * k:
      raise ValueError(
          f'Dim {letter!r} of the gathered operand has local size {b}, '
          f'expected {n} / {k} (the full dim {n} over {k} devices).')

    def use(blk, j):
      parts.append(_einsum32(eqn, blk, _slice(other, os_, letter, j, b)))
      return parts[-1]

    _ring_gather(g, axis_name, bidirectional, use)
    return functools.reduce(jnp.add, parts).astype(dtype)
  if letter in out and letter not in os_:
    axis = out.index(letter)

    def use(blk, j):
      parts.append((_einsum32(eqn, blk, other).astype(dtype), j))
      return parts[-1][0]

    _ring_gather(g, axis_name, bidirectional, use)
    return _assemble(parts, axis, b * k)
  raise ValueError(
      f'Gathered dim {letter!r} must be contracted with the second operand or '
      f'be an output dim of {eqn!r}, not both.')


def _assemble(parts, axis: int, full: int) -> JTensor:
  """Writes blocks (value, j) at offset j * size along `axis`."""
  shape = list(parts[0][0].shape)
  size = shape[axis]
  shape[axis] = full
  res = jnp.zeros(shape, parts[0][0].dtype)
  for blk, j in parts:
    res = jax.lax.dynamic_update_slice_in_dim(res, blk, j * size, axis)
  return res


def ring_scatter_einsum(eqn: str, a: JTensor, b: JTensor, letter: str,
                        axis_name: str, bidirectional: bool = False,
                        accum_dtype: Any = None) -> JTensor:
  """reduce_scatter(einsum(eqn, a, b), letter), overlapped with ppermute.

  Args:
    eqn: explicit two-operand einsum.
    a: local first operand (partial: its contracted dims may be sharded).
    b: local second operand. Exactly one of a, b holds output dim `letter`
      in full.
    letter: output dim to scatter; device i keeps block i.
    axis_name: the ring's mesh axis.
    bidirectional: pass partial sums both ways round the ring.
    accum_dtype: dtype of the travelling partial sums; None = the operands'
      result dtype.

  Returns:
    Block `axis_index` along `letter` of the sum over devices.
  """
  as_, bs, out = split_eqn(eqn)
  if (letter in as_) == (letter in bs) or letter not in out:
    raise ValueError(
        f'Scattered dim {letter!r} must be an output dim of {eqn!r} held by '
        'exactly one operand.')
  k = axis_size(axis_name)
  idx = jax.lax.axis_index(axis_name)
  full_spec, full = (as_, a) if letter in as_ else (bs, b)
  n = full.shape[full_spec.index(letter)]
  check_divisible(n, k, f'Output dim {letter!r} of {eqn!r}')
  size = n // k
  dtype = jnp.result_type(a, b)
  acc_dtype = dtype if accum_dtype is None else jnp.dtype(accum_dtype)

  def part(j, after=None):
    sl = _slice(full, full_spec, letter, j, size)
    args = (sl, b) if letter in as_ else (a, sl)
    return _einsum32(eqn, *_tie(args, after)).astype(acc_dtype)

  if not bidirectional:
    # Device idx adds block idx - 1 - s at step s and sends it up.
    acc = part((idx + k - 1) % k)
    for s in range(1, k):
      acc = _shift(acc, axis_name, k, +1) + part((idx + k - 1 - s) % k, acc)
    return acc.astype(dtype)
  # Down chain covers devices j + h .. j, up chain j - g .. j - 1.
  h, g = k // 2, (k - 1) // 2
  down = part((idx + k - h) % k)
  up = part((idx + g) % k, down) if g else None
  for s in range(1, h + 1):
    sent_down, sent_up = down, up
    p_down = part((idx + k + s - h) % k, (sent_down, sent_up))
    down = _shift(sent_down, axis_name, k, -1) + p_down
    if s < g:
      up = _shift(sent_up, axis_name, k, +1) + part((idx + g - s) % k,
                                                    (sent_up, p_down))
    elif s == g:
      up = _shift(sent_up, axis_name, k, +1)
  res = down if up is None else down + up
  return res.astype(dtype)


def grad_eqns(eqn: str) -> tuple[str, str]:
  """Equations of dx = f(dy, w) and dw = f(x, dy)."""
  xs, ws, ys = split_eqn(eqn)
  for name, spec, srcs in (('x', xs, ys + ws), ('w', ws, xs + ys)):
    missing = [c for c in spec if c not in srcs]
    if missing:
      raise ValueError(
          f'Dims {missing} of {name} in {eqn!r} are summed away; the '
          'collective matmul needs every operand dim in the output or the '
          'other operand.')
  return f'{ys},{ws}->{xs}', f'{xs},{ys}->{ws}'


def _canon(accum_dtype) -> str | None:
  return None if accum_dtype is None else jnp.dtype(accum_dtype).name


# --- all-gather-matmul ------------------------------------------------------


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2, 3, 4))
def _ag_matmul(eqn, letter, axis_name, bidi, accum, x, w):
  del accum  # The forward gather sums its parts in float32 already.
  return ring_gather_einsum(eqn, x, w, letter, axis_name, bidi)


def _ag_fwd(eqn, letter, axis_name, bidi, accum, x, w):
  return _ag_matmul(eqn, letter, axis_name, bidi, accum, x, w), (x, w)


def ag_backward(eqn, letter, axis_name, bidi, accum, x, w, dy):
  """(dx, dw) of all_gather_matmul: a reduce-scatter ring + a re-gather."""
  dx_eqn, dw_eqn = grad_eqns(eqn)
  dx = ring_scatter_einsum(dx_eqn, dy, w, letter, axis_name, bidi, accum)
  dw = ring_gather_einsum(dw_eqn, x, dy, letter, axis_name, bidi)
  return dx, dw


def _ag_bwd(eqn, letter, axis_name, bidi, accum, res, dy):
  x, w = res
  # Looked up at trace time (tests substitute a broken backward).
  dx, dw = ag_backward(eqn, letter, axis_name, bidi, accum, x, w, dy)
  return dx.astype(x.dtype), dw.astype(w.dtype)


_ag_matmul.defvjp(_ag_fwd, _ag_bwd)


def all_gather_matmul(x: JTensor, w: JTensor, *, eqn: str, letter: str,
                      axis_name: str, bidirectional: bool = False,
                      accum_dtype: Any = None) -> JTensor:
  """Per-shard `einsum(eqn, all_gather(x, letter), w)`, ring-overlapped.

  Args:
    x: local activation block, sharded on contracted dim `letter`.
    w: local weight, holding all of `letter` (usually sharded on an output
      dim, which the result then is too).
    eqn: explicit einsum 'xs,ws->ys'.
    letter: the contracted dim that x is sharded on.
    axis_name: the model mesh axis.
    bidirectional: ring in both directions.
    accum_dtype: dtype of the backward's travelling dx partial sums.

  Returns:
    The local block of y. Backward: dx by matmul-reduce-scatter, dw by a ring
    all-gather of x.
  """
  grad_eqns(eqn)
  return _ag_matmul(eqn, letter, axis_name, bidirectional,
                    _canon(accum_dtype), x, w)


# --- matmul-reduce-scatter --------------------------------------------------


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2, 3, 4))
def _rs_matmul(eqn, letter, axis_name, bidi, accum, x, w):
  return ring_scatter_einsum(eqn, x, w, letter, axis_name, bidi, accum)


def _rs_fwd(eqn, letter, axis_name, bidi, accum, x, w):
  return _rs_matmul(eqn, letter, axis_name, bidi, accum, x, w), (x, w)


def rs_backward(eqn, letter, axis_name, bidi, x, w, dy):
  """(dx, dw) of matmul_reduce_scatter from ONE ring of dy blocks.

  Per step, with the dy block j it holds (block j of the output dim
  `letter`): dx += einsum(dy_j, w[..., block j]) and
  dw[..., block j] = einsum(x, dy_j).
  """
  dx_eqn, dw_eqn = grad_eqns(eqn)
  _, ws, ys = split_eqn(eqn)
  b = dy.shape[ys.index(letter)]
  dx_parts, dw_parts = [], []

  def use(blk, j):
    dx_parts.append(_einsum32(dx_eqn, blk, _slice(w, ws, letter, j, b)))
    dw_parts.append((_einsum32(dw_eqn, x, blk), j))
    return dx_parts[-1], dw_parts[-1][0]

  _ring_gather(dy, axis_name, bidi, use)
  dx = functools.reduce(jnp.add, dx_parts)
  dw = _assemble(dw_parts, ws.index(letter), w.shape[ws.index(letter)])
  return dx, dw


def _rs_bwd(eqn, letter, axis_name, bidi, accum, res, dy):
  del accum  # The backward gathers dy; its sums are float32 already.
  x, w = res
  dx, dw = rs_backward(eqn, letter, axis_name, bidi, x, w, dy)
  return dx.astype(x.dtype), dw.astype(w.dtype)


_rs_matmul.defvjp(_rs_fwd, _rs_bwd)


def matmul_reduce_scatter(x: JTensor, w: JTensor, *, eqn: str, letter: str,
                          axis_name: str, bidirectional: bool = False,
                          accum_dtype: Any = None) -> JTensor:
  """Per-shard `reduce_scatter(einsum(eqn, x, w), letter)`, ring-overlapped.

  Args:
    x: local activation block, sharded on a contracted dim.
    w: local weight block, sharded on the same contracted dim and holding all
      of output dim `letter`.
    eqn: explicit einsum 'xs,ws->ys'.
    letter: output dim of w that the result is scattered on.
    axis_name: the model mesh axis.
    bidirectional: ring in both directions.
    accum_dtype: dtype of the forward's travelling partial sums of y.

  Returns:
    Block `axis_index` of y along `letter`. Backward: one ring of dy blocks
    giving dx and dw.
  """
  grad_eqns(eqn)
  return _rs_matmul(eqn, letter, axis_name, bidirectional,
                    _canon(accum_dtype), x, w)
