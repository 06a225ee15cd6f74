# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of the per-shard ring collective matmuls on 1-8 fake CPU devices."""

import functools
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import jax
from jax import numpy as jnp
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np
from praxis import test_utils

from vit22b_pax.core import compat
from vit22b_pax.core import hlo
from vit22b_pax.core import collective_matmul as cm


def shard_map(f, mesh, in_specs, out_specs, check_rep=False):
  del check_rep  # compat.shard_map always switches the check off.
  return compat.shard_map(f, mesh, in_specs, out_specs)

# In-projection: x [B,T,D] sharded on d (contracted), w [D,N,E] on n.
AG_EQN = 'btd,dne->btne'
AG_SPECS = (P(None, None, 'mdl'), P(None, 'mdl', None), P(None, None, 'mdl'))
# Out-projection: x [B,T,N,C], w [N,C,D] sharded on n, y scattered on d.
RS_EQN = 'btnc,ncd->btd'
RS_SPECS = (P(None, None, 'mdl', None), P('mdl', None, None),
            P(None, None, 'mdl'))


def _mesh(k):
  return Mesh(np.array(jax.devices()[:k]), ('mdl',))


def _operands(form, k, dtype=np.float32, seed=0):
  """x, w, and a cotangent r for y; dims scale with k so all divide."""
  rng = np.random.default_rng(seed)
  b, t = 2, 3
  if form == 'all_gather':
    shapes = ((b, t, 4 * k), (4 * k, 2 * k, 3), (b, t, 2 * k, 3))
  else:
    shapes = ((b, t, 2 * k, 3), (2 * k, 3, 4 * k), (b, t, 4 * k))
  return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _collective(form, k, bidirectional):
  fn = cm.all_gather_matmul if form == 'all_gather' else (
      cm.matmul_reduce_scatter)
  eqn = AG_EQN if form == 'all_gather' else RS_EQN
  specs = AG_SPECS if form == 'all_gather' else RS_SPECS
  letter = 'd'
  per_shard = functools.partial(fn, eqn=eqn, letter=letter, axis_name='mdl',
                                bidirectional=bidirectional)
  return eqn, shard_map(per_shard, mesh=_mesh(k), in_specs=specs[:2],
                        out_specs=specs[2], check_rep=False)


def _value_and_grads(f, x, w, r):
  """y = f(x, w) and the gradients of sum(y * r)."""
  def loss(x, w):
    y = f(x, w)
    return jnp.sum(y.astype(jnp.float32) * r.astype(jnp.float32)), y
  (_, y), (dx, dw) = jax.jit(
      jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))(x, w)
  return y, dx, dw


def _numpy_reference(eqn, x, w, r):
  """y = einsum(eqn, x, w); dx, dw of sum(y * r), in float64 numpy."""
  xs, ws_ys = eqn.split(',')
  ws, ys = ws_ys.split('->')
  x, w, r = (np.asarray(a, np.float64) for a in (x, w, r))
  return (np.einsum(eqn, x, w), np.einsum(f'{ys},{ws}->{xs}', r, w),
          np.einsum(f'{xs},{ys}->{ws}', x, r))


class CollectiveMatmulTest(test_utils.TestCase):

  @parameterized.product(
      k=(1, 2, 4, 8), form=('all_gather', 'reduce_scatter'),
      bidirectional=(False, True))
  def test_matches_dense_float32(self, k, form, bidirectional):
    x, w, r = _operands(form, k)
    eqn, f = _collective(form, k, bidirectional)
    got = _value_and_grads(f, x, w, r)
    for g, want in zip(got, _numpy_reference(eqn, x, w, r)):
      self.assertEqual(g.dtype, jnp.float32)
      self.assertAllClose(g, want, rtol=1e-5, atol=1e-5, check_dtypes=False)

  @parameterized.product(form=('all_gather', 'reduce_scatter'),
                         bidirectional=(False, True))
  def test_matches_dense_bfloat16(self, form, bidirectional):
    k = 4
    x, w, r = _operands(form, k, seed=1)
    bf = [jnp.asarray(a, jnp.bfloat16) for a in (x, w, r)]
    eqn, f = _collective(form, k, bidirectional)
    got = _value_and_grads(f, *bf)
    want = _numpy_reference(eqn, *(np.asarray(a, np.float32) for a in bf))
    for g, ref in zip(got, want):
      self.assertEqual(g.dtype, jnp.bfloat16)
      scale = np.abs(ref).max()
      self.assertAllClose(np.asarray(g, np.float32) / scale, ref / scale,
                          rtol=0, atol=3e-2, check_dtypes=False)

  def test_odd_ring_bidirectional(self):
    # k = 3: one step each way; checks the uneven up/down split.
    for form in ('all_gather', 'reduce_scatter'):
      x, w, r = _operands(form, 3, seed=2)
      eqn, f = _collective(form, 3, True)
      for g, want in zip(_value_and_grads(f, x, w, r),
                         _numpy_reference(eqn, x, w, r)):
        self.assertAllClose(g, want, rtol=1e-5, atol=1e-5, check_dtypes=False)

  def test_hlo_has_collective_permute_only(self):
    k = 8
    mesh = _mesh(k)
    for form in ('all_gather', 'reduce_scatter'):
      for bidirectional in (False, True):
        x, w, r = _operands(form, k)
        eqn, f = _collective(form, k, bidirectional)
        specs = AG_SPECS if form == 'all_gather' else RS_SPECS
        shard = [NamedSharding(mesh, s) for s in specs]

        def step(x, w, r, f=f):
          return jax.grad(lambda x, w: jnp.sum(f(x, w) * r), (0, 1))(x, w)

        hlo = jax.jit(step, in_shardings=shard[:2] + shard[2:],
                      out_shardings=tuple(shard[:2])).lower(
                          x, w, r).compile().as_text()
        self.assertIn('collective-permute', hlo)
        for op in ('all-gather', 'reduce-scatter', 'all-reduce',
                   'all-to-all'):
          self.assertNotIn(op, hlo, f'{form} bidi={bidirectional}: {op}')

    # The same sharded einsum left to XLA's partitioner does use the
    # whole-operand collective the ring replaces.
    x, w, _ = _operands('all_gather', k)
    dense = jax.jit(
        lambda x, w: jnp.einsum(AG_EQN, x, w),
        in_shardings=tuple(NamedSharding(mesh, s) for s in AG_SPECS[:2]),
        out_shardings=NamedSharding(mesh, P(None, None, 'mdl', None)))
    hlo = dense.lower(x, w).compile().as_text()
    self.assertNotIn('collective-permute', hlo)
    self.assertTrue('all-gather' in hlo or 'all-reduce' in hlo)

  @parameterized.product(form=('all_gather', 'reduce_scatter'),
                         bidirectional=(False, True))
  def test_merge_guard_chains_each_rings_matmuls(self, form, bidirectional):
    # Forward and backward separately; per ring k matmuls (the reduce-scatter
    # backward's single dy ring: 2 per step) that the guard orders into one
    # dependency chain of k steps. Without the guard the partial matmuls are
    # independent (chain 1): free for XLA to merge or hoist above the ring.
    k = 4
    x, w, r = _operands(form, k)
    _, f = _collective(form, k, bidirectional)
    fwd = jax.jit(f)
    bwd = jax.jit(lambda x, w: jax.vjp(f, x, w)[1](r))
    # (rings, matmuls per ring step) of forward and backward.
    rings = {'all_gather': ((1, 1), (2, 1)), 'reduce_scatter': ((1, 1), (1, 2))}
    for prog, (n_rings, per_step) in zip((fwd, bwd), rings[form]):
      lowered = prog.lower(x, w)
      count, chain = hlo.matmul_chain(lowered.as_text('hlo'))
      self.assertEqual(count, n_rings * k * per_step)
      self.assertGreaterEqual(chain, k)
      # The compiled program keeps the k separate matmuls per ring.
      compiled, _ = hlo.matmul_chain(lowered.compile().as_text())
      self.assertEqual(compiled, n_rings * k * per_step)
    with mock.patch.object(cm, '_tie', lambda operands, after: operands):
      _, f = _collective(form, k, bidirectional)
      _, chain = hlo.matmul_chain(jax.jit(f).lower(x, w).as_text('hlo'))
    self.assertEqual(chain, 1)

  @parameterized.parameters(False, True)
  def test_bfloat16_float32_accumulation(self, bidirectional):
    # k = 8: partial sums rounded to bf16 at every hop lose precision;
    # float32 accumulation is as accurate as one plain bf16 matmul.
    k = 8
    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.standard_normal((16, 8 * k)), jnp.bfloat16)
    w = jnp.asarray(rng.standard_normal((8 * k, 8 * k)), jnp.bfloat16)
    ref = np.asarray(x, np.float64) @ np.asarray(w, np.float64)

    def err(y):
      return (np.abs(np.asarray(y, np.float64) - ref).mean() /
              np.abs(ref).mean())

    plain = err(jax.jit(lambda a, b: a @ b)(x, w))
    errs = {}
    for accum in (None, 'float32'):
      f = shard_map(functools.partial(
          cm.matmul_reduce_scatter, eqn='mk,kd->md', letter='d',
          axis_name='mdl', bidirectional=bidirectional, accum_dtype=accum),
                    _mesh(k), (P(None, 'mdl'), P('mdl', None)),
                    P(None, 'mdl'))
      y = jax.jit(f)(x, w)
      self.assertEqual(y.dtype, jnp.bfloat16)
      errs[accum] = err(y)
    self.assertLessEqual(errs['float32'], plain * (1 + 1e-6))
    self.assertGreater(errs[None], 1.5 * plain)

  def test_all_gather_backward_accumulates_dx_in_float32(self):
    # dx of an all-gather-matmul is a reduce-scatter ring over dy.
    k = 8
    rng = np.random.default_rng(4)
    x = jnp.asarray(rng.standard_normal((16, 8 * k)), jnp.bfloat16)
    w = jnp.asarray(rng.standard_normal((8 * k, 8 * k)), jnp.bfloat16)
    dy = jnp.asarray(rng.standard_normal((16, 8 * k)), jnp.bfloat16)
    ref = np.asarray(dy, np.float64) @ np.asarray(w, np.float64).T
    errs = {}
    for accum in (None, 'float32'):
      f = shard_map(functools.partial(
          cm.all_gather_matmul, eqn='md,dk->mk', letter='d',
          axis_name='mdl', accum_dtype=accum), _mesh(k),
                    (P(None, 'mdl'), P(None, 'mdl')), P(None, 'mdl'))
      dx = jax.jit(lambda x, w, f=f: jax.vjp(f, x, w)[1](dy)[0])(x, w)
      errs[accum] = (np.abs(np.asarray(dx, np.float64) - ref).mean() /
                     np.abs(ref).mean())
    plain = np.abs(np.asarray(jnp.asarray(dy) @ jnp.asarray(w).T,
                              np.float64) - ref).mean() / np.abs(ref).mean()
    self.assertLessEqual(errs['float32'], plain * (1 + 1e-6))
    self.assertGreater(errs[None], errs['float32'])

  def test_non_divisible_output_dim(self):
    # Output dim d = 6 cannot be scattered over 4 devices.
    x = np.ones((2, 3, 4, 3), np.float32)
    w = np.ones((4, 3, 6), np.float32)
    f = shard_map(
        functools.partial(cm.matmul_reduce_scatter, eqn=RS_EQN, letter='d',
                          axis_name='mdl'),
        mesh=_mesh(4), in_specs=RS_SPECS[:2], out_specs=P(), check_rep=False)
    with self.assertRaisesRegex(ValueError, r'size 6.*4 devices'):
      f(x, w)

  def test_mismatched_gathered_dim(self):
    # x holds 2 of d per device (8 over 4), but w has d = 10.
    x = np.ones((2, 3, 8), np.float32)
    w = np.ones((10, 4, 3), np.float32)
    f = shard_map(
        functools.partial(cm.all_gather_matmul, eqn=AG_EQN, letter='d',
                          axis_name='mdl'),
        mesh=_mesh(4), in_specs=AG_SPECS[:2], out_specs=AG_SPECS[2],
        check_rep=False)
    with self.assertRaisesRegex(ValueError, r'local size 2.*10 / 4'):
      f(x, w)

  def test_rejects_summed_away_dims(self):
    with self.assertRaisesRegex(ValueError, 'summed away'):
      cm.all_gather_matmul(jnp.ones((2, 3)), jnp.ones((3, 4)),
                           eqn='ab,bc->c', letter='b', axis_name='mdl')


if __name__ == '__main__':
  absltest.main()
