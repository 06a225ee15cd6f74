# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The jax-version shims pick what the running jax provides."""

import types
from unittest import mock

from absl.testing import absltest
import jax
from jax import numpy as jnp
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
import numpy as np

from vit22b_pax.core import compat


class CompatTest(absltest.TestCase):

  def test_shard_map_prefers_jax_shard_map_with_check_vma(self):
    calls = []

    def fake_shard_map(f, *, mesh, in_specs, out_specs, check_vma=True):
      calls.append(dict(mesh=mesh, in_specs=in_specs, out_specs=out_specs,
                        check_vma=check_vma))
      return f

    with mock.patch.object(jax, 'shard_map', fake_shard_map, create=True):
      fn, check = compat._resolve_shard_map()
      self.assertIs(fn, fake_shard_map)
      self.assertEqual(check, 'check_vma')
      f = compat.shard_map(len, 'mesh', (P(),), P())
    self.assertIs(f, len)
    self.assertEqual(calls, [dict(mesh='mesh', in_specs=(P(),),
                                  out_specs=P(), check_vma=False)])

  def test_shard_map_fallback_runs_on_this_jax(self):
    # Without jax.shard_map (jax 0.4.26) the experimental one with
    # check_rep=False is used; it really runs a collective.
    with mock.patch.object(jax, 'shard_map', None, create=True):
      _, check = compat._resolve_shard_map()
      self.assertEqual(check, 'check_rep')
      mesh = Mesh(np.array(jax.devices()[:4]), ('i',))
      f = compat.shard_map(lambda x: jax.lax.psum(x, 'i'), mesh, (P('i'),),
                           P('i'))
      np.testing.assert_array_equal(f(jnp.arange(4.0)), np.full(4, 6.0))

  def test_optimization_barrier_and_axis_size_fallbacks(self):
    fake_lax = types.SimpleNamespace(
        optimization_barrier=lambda t: ('barrier', t),
        axis_size=lambda name: 7)
    with mock.patch.object(jax, 'lax', fake_lax):
      self.assertEqual(compat.optimization_barrier(1), ('barrier', 1))
      self.assertEqual(compat.axis_size('i'), 7)
    # This jax: the ad_checkpoint primitive and psum(1).
    x, y = jax.jit(lambda a: compat.optimization_barrier((a, a + 1)))(1.0)
    self.assertEqual((float(x), float(y)), (1.0, 2.0))
    mesh = Mesh(np.array(jax.devices()[:4]), ('i',))
    f = compat.shard_map(
        lambda x: x * 0 + compat.axis_size('i'), mesh, (P('i'),), P('i'))
    np.testing.assert_array_equal(f(jnp.zeros(4)), np.full(4, 4.0))


if __name__ == '__main__':
  absltest.main()
