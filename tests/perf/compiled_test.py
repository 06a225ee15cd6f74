# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""perf/compiled: loop trip counts, matmul FLOPs, collectives per loop."""

import jax
from jax import numpy as jnp
from jax.experimental import shard_map
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import numpy as np
import pytest

from vit22b_pax.core import hlo
from vit22b_pax.perf import compiled


def _scan_matmuls(n_layers, m, k):
  """A scan of n_layers [m, k] x [k, k] matmuls; returns the compiled text."""
  def f(x, ws):
    def body(c, w):
      return jnp.tanh(c @ w), None
    return jax.lax.scan(body, x, ws)[0].sum()
  x = jax.ShapeDtypeStruct((m, k), jnp.float32)
  ws = jax.ShapeDtypeStruct((n_layers, k, k), jnp.float32)
  return jax.jit(jax.grad(f, argnums=1)).lower(x, ws).compile().as_text()


def test_trip_counts_and_flops_of_a_scanned_step():
  layers, m, k = 5, 16, 24
  text = _scan_matmuls(layers, m, k)
  mod = hlo.Module(text)
  loops = compiled.multipliers(mod, layers)
  # Forward and backward loops, each `layers` trips.
  assert sorted(t for t in loops.trips.values() if t) == [layers, layers]
  # Reference: forward c @ w (2 m k k), backward dc = g w^T and
  # dw = c^T g (2 m k k each), per layer.
  want = layers * 3 * 2 * m * k * k
  assert compiled.matmul_flops(mod, loops) == pytest.approx(want, rel=0.02)
  # XLA's own cost analysis counts a loop body once: far below.
  c = jax.jit(jax.grad(lambda x, ws: jax.lax.scan(
      lambda c, w: (jnp.tanh(c @ w), None), x, ws)[0].sum(), argnums=1)
              ).lower(jax.ShapeDtypeStruct((m, k), jnp.float32),
                      jax.ShapeDtypeStruct((layers, k, k), jnp.float32)
                      ).compile().cost_analysis()
  c = c[0] if isinstance(c, (list, tuple)) else c
  assert c['flops'] < 0.5 * want


def test_dot_flops_reads_contracting_dims():
  text = """HloModule m
ENTRY %main (a: f32[3,4,5], b: f32[3,5,7]) -> f32[3,4,7] {
  %a = f32[3,4,5]{2,1,0} parameter(0)
  %b = f32[3,5,7]{2,1,0} parameter(1)
  ROOT %d = f32[3,4,7]{2,1,0} dot(f32[3,4,5]{2,1,0} %a, f32[3,5,7]{2,1,0} %b), lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={1}
}
"""
  mod = hlo.Module(text)
  loops = compiled.multipliers(mod)
  assert compiled.matmul_flops(mod, loops) == 2 * 3 * 4 * 7 * 5


def test_collectives_in_a_layer_loop_are_counted_per_trip():
  devices = np.array(jax.devices()[:8]).reshape(1, 4, 2)
  mesh = Mesh(devices, ('replica', 'data', 'mdl'))
  layers = 3

  def body(c, w):
    y = c @ w                                   # [8, 8] partial sums
    return jax.lax.psum(y, 'mdl'), None         # one all-reduce over mdl

  def f(x, ws):
    return jax.lax.scan(body, x, ws)[0]

  g = shard_map.shard_map(f, mesh, in_specs=(P(None, 'mdl'), P(None, 'mdl')),
                          out_specs=P(), check_rep=False)
  x = jax.ShapeDtypeStruct((8, 16), jnp.float32,
                           sharding=NamedSharding(mesh, P(None, 'mdl')))
  ws = jax.ShapeDtypeStruct((layers, 16, 8), jnp.float32,
                            sharding=NamedSharding(mesh, P(None, 'mdl')))
  text = jax.jit(g).lower(x, ws).compile().as_text()
  rows, loops = compiled.collective_table(
      text, (1, 4, 2), ('replica', 'data', 'mdl'), layers)
  block = [r for r in rows if r.in_layer]
  assert [(r.kind, r.axes, r.per_step) for r in block] == [
      ('all-reduce', ('mdl',), layers)]
  # Ring model: an all-reduce of 8 x 8 float32 over 2 devices sends
  # 2 (k - 1) / k of it.
  assert block[0].bytes_per_step == pytest.approx(layers * 8 * 8 * 4)
  per_block = compiled.bytes_by_axis(rows, True, layers)
  assert per_block == {'mdl': pytest.approx(8 * 8 * 4)}


def test_buffer_stats_classifies_allocations():
  text = """allocation 0: size 100, parameter 0, shape |f32[25]| at ShapeIndex {}:
allocation 1: size 40, parameter 1, maybe-live-out, shape |f32[10]|:
allocation 2: size 64, output shape is |(f32[16])|, maybe-live-out:
allocation 3: size 256, preallocated-temp:
allocation 4: size 8, thread-local:
allocation 5: size 4, constant:
"""
  assert compiled.buffer_stats(text) == dict(argument=140, alias=40,
                                             output=64, temp=256)


def test_stacked_residuals_finds_the_saved_layer_inputs():
  layers, m, k = 4, 16, 24
  def f(x, ws):
    def body(c, w):
      return jnp.sin(c @ w), None
    return jax.lax.scan(jax.checkpoint(body), x, ws)[0].sum()
  text = jax.jit(jax.grad(f, argnums=1)).lower(
      jax.ShapeDtypeStruct((m, k), jnp.float32),
      jax.ShapeDtypeStruct((layers, k, k), jnp.float32)).compile().as_text()
  found = compiled.stacked_residuals(text, layers, m)
  # Rematerialised: only each layer's input [m, k] is stacked.
  assert found == [(f'f32[{layers},{m},{k}]', layers * m * k * 4.0)]


def test_largest_temps_counts_a_shared_buffer_once():
  text = """allocation 0: size 100, parameter 0, shape |f32[25]| at ShapeIndex {}:
 value: <0 p @0> (size=100,offset=0): f32[25]{0}
allocation 1: size 4096, preallocated-temp:
 value: <1 broadcast.2 @0> (size=2048,offset=0): f32[2,256]{1,0}
 value: <2 fusion.3 @0> (size=2048,offset=0): f32[2,256]{1,0}
 value: <3 while.4{4} (phi) @0> (size=2048,offset=0): f32[2,256]{1,0}
 value: <4 dot.5 @0> (size=1024,offset=2048): f32[256]{0}

Total bytes used: 4196
"""
  temps = compiled.largest_temps(text)
  assert temps == [
      dict(bytes=2048, shape='f32[2,256]',
           name='broadcast.2, fusion.3, while.4'),
      dict(bytes=1024, shape='f32[256]', name='dot.5')]
