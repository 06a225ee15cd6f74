# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""HLO text analysis on hand-written modules and a compiled program."""

from absl.testing import absltest
import jax
from jax import numpy as jnp
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np

from vit22b_pax.core import hlo

# A scheduled GPU-style module: two async permutes, GEMMs as a cuBLAS custom
# call and as a Triton fusion; one all-gather in iota group format.
_GPU_MODULE = """
HloModule m, is_scheduled=true

%triton_gemm_dot.1 (p0: bf16[64,64], p1: bf16[64,64]) -> bf16[64,64] {
  %p0 = bf16[64,64]{1,0} parameter(0)
  %p1 = bf16[64,64]{1,0} parameter(1)
  ROOT %dot.9 = bf16[64,64]{1,0} dot(bf16[64,64]{1,0} %p0, bf16[64,64]{1,0} %p1), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}

ENTRY %main (a: bf16[64,64], b: bf16[64,64]) -> bf16[64,64] {
  %a = bf16[64,64]{1,0} parameter(0)
  %b = bf16[64,64]{1,0} parameter(1)
  %cp-start = (bf16[64,64]{1,0}, bf16[64,64]{1,0}, u32[], u32[]) collective-permute-start(bf16[64,64]{1,0} %a), channel_id=1, source_target_pairs={{0,1},{1,2},{2,3},{3,0}}
  %gemm = (bf16[64,64]{1,0}, s8[1024]{0}) custom-call(bf16[64,64]{1,0} %a, bf16[64,64]{1,0} %b), custom_call_target="__cublas$gemm"
  %gte = bf16[64,64]{1,0} get-tuple-element((bf16[64,64]{1,0}, s8[1024]{0}) %gemm), index=0
  %fus = bf16[64,64]{1,0} fusion(bf16[64,64]{1,0} %gte, bf16[64,64]{1,0} %b), kind=kCustom, calls=%triton_gemm_dot.1
  %cp-done = bf16[64,64]{1,0} collective-permute-done((bf16[64,64]{1,0}, bf16[64,64]{1,0}, u32[], u32[]) %cp-start)
  %cp2-start = (bf16[64,64]{1,0}, bf16[64,64]{1,0}, u32[], u32[]) collective-permute-start(bf16[64,64]{1,0} %cp-done), channel_id=2, source_target_pairs={{0,3},{1,0},{2,1},{3,2}}
  %cp2-done = bf16[64,64]{1,0} collective-permute-done((bf16[64,64]{1,0}, bf16[64,64]{1,0}, u32[], u32[]) %cp2-start)
  %ag = bf16[128,64]{1,0} all-gather(bf16[64,64]{1,0} %fus), channel_id=3, replica_groups=[2,2]<=[2,2]T(1,0), dimensions={0}, use_global_device_ids=true
  ROOT %add = bf16[64,64]{1,0} add(bf16[64,64]{1,0} %cp2-done, bf16[64,64]{1,0} %fus)
}
"""

# A CPU-style module: a loop fusion slicing and transposing inside (not
# materialised), XLA:CPU's parallel call wrapping a fusion whose root is a
# copy (materialised), a top-level concatenate, a multi-output fusion with
# one pad output, and arithmetic that moves nothing.
_CPU_MODULE = """
HloModule m

%fused_computation (p.0: f32[8,6]) -> f32[3,8] {
  %p.0 = f32[8,6]{1,0} parameter(0)
  %slice.1 = f32[8,3]{1,0} slice(f32[8,6]{1,0} %p.0), slice={[0:8], [0:3]}
  %transpose.1 = f32[3,8]{0,1} transpose(f32[8,3]{1,0} %slice.1), dimensions={1,0}
  %copy.1 = f32[3,8]{1,0} copy(f32[3,8]{0,1} %transpose.1)
  ROOT %exp.1 = f32[3,8]{1,0} exponential(f32[3,8]{1,0} %copy.1)
}

%fused_computation.2 (p.1: f32[8,6]) -> f32[6,8] {
  %p.1 = f32[8,6]{1,0} parameter(0)
  %transpose.2 = f32[6,8]{0,1} transpose(f32[8,6]{1,0} %p.1), dimensions={1,0}
  ROOT %copy.2 = f32[6,8]{1,0} copy(f32[6,8]{0,1} %transpose.2)
}

%parallel_fusion.2 (p.2: f32[8,6]) -> f32[6,8] {
  %p.2 = f32[8,6]{1,0} parameter(0)
  ROOT %fusion.2.clone = f32[6,8]{1,0} fusion(f32[8,6]{1,0} %p.2), kind=kLoop, calls=%fused_computation.2
}

%fused_computation.3 (p.3: f32[8,6]) -> (f32[8,6], f32[8,8]) {
  %p.3 = f32[8,6]{1,0} parameter(0)
  %neg.3 = f32[8,6]{1,0} negate(f32[8,6]{1,0} %p.3)
  %zero = f32[] constant(0)
  %pad.3 = f32[8,8]{1,0} pad(f32[8,6]{1,0} %p.3, f32[] %zero), padding=0_0x0_2
  ROOT %tuple.3 = (f32[8,6]{1,0}, f32[8,8]{1,0}) tuple(f32[8,6]{1,0} %neg.3, f32[8,8]{1,0} %pad.3)
}

ENTRY %main (a: f32[8,6]) -> f32[6,8] {
  %a = f32[8,6]{1,0} parameter(0)
  %fusion = f32[3,8]{1,0} fusion(f32[8,6]{1,0} %a), kind=kLoop, calls=%fused_computation
  %call.2 = f32[6,8]{1,0} call(f32[8,6]{1,0} %a), to_apply=%parallel_fusion.2
  %concatenate.4 = f32[16,6]{1,0} concatenate(f32[8,6]{1,0} %a, f32[8,6]{1,0} %a), dimensions={0}
  %fusion.3 = (f32[8,6]{1,0}, f32[8,8]{1,0}) fusion(f32[8,6]{1,0} %a), kind=kLoop, calls=%fused_computation.3
  %add.5 = f32[8,6]{1,0} add(f32[8,6]{1,0} %a, f32[8,6]{1,0} %a)
  ROOT %copy.5 = f32[6,8]{1,0} copy(f32[6,8]{1,0} %call.2)
}
"""


class HloTest(absltest.TestCase):

  def test_data_movement_handwritten(self):
    ops, nbytes = hlo.data_movement(_CPU_MODULE)
    # Inside fusions: slice.1 (96 B), transpose.1 and copy.1 (96 B each),
    # transpose.2 and copy.2 (192 B each), pad.3 (256 B). Materialised:
    # call.2 (its fusion's root copy.2, 192 B; the fusion inside the call
    # is not counted again), fusion.3 (its pad output, 256 B). Top level:
    # concatenate.4 (384 B), copy.5 (192 B). Not counted: fusion (root
    # exponential), add.5, the tuple's negate output.
    self.assertEqual(ops, 6 + 2 + 2)
    self.assertEqual(nbytes, 96 * 3 + 192 * 2 + 256 + 192 + 256 + 384 + 192)

  def test_data_movement_compiled(self):
    # A transpose the program returns must be materialised; the one feeding
    # an add may be fused; an elementwise program moves nothing.
    x = jnp.ones((64, 32))
    moving = jax.jit(lambda x: x.T).lower(x).compile().as_text()
    ops, nbytes = hlo.data_movement(moving)
    self.assertGreaterEqual(ops, 1)
    self.assertGreaterEqual(nbytes, 64 * 32 * 4)
    still = jax.jit(lambda x: 2 * x + 1).lower(x).compile().as_text()
    self.assertEqual(hlo.data_movement(still), (0, 0.0))

  def test_gpu_style_module(self):
    cs = hlo.collectives(_GPU_MODULE)
    self.assertEqual([c.kind for c in cs],
                     ['collective-permute', 'collective-permute',
                      'all-gather'])
    self.assertEqual(cs[0].bytes_sent, 64 * 64 * 2)
    # all-gather over groups {0,2},{1,3}: sends (k-1) * its 8 KiB input.
    self.assertEqual(cs[2].groups, ((0, 2), (1, 3)))
    self.assertEqual(cs[2].bytes_sent, 64 * 64 * 2)
    overlap = hlo.async_overlap(_GPU_MODULE)
    self.assertEqual([(o.start, o.matmuls) for o in overlap],
                     [('cp-start', 2), ('cp2-start', 0)])
    count, chain = hlo.matmul_chain(_GPU_MODULE)
    self.assertEqual((count, chain), (2, 2))

  def test_mesh_axes_of(self):
    shape, names = (1, 2, 4), ('replica', 'data', 'mdl')
    self.assertEqual(hlo.mesh_axes_of([[0, 1, 2, 3], [4, 5, 6, 7]], shape,
                                      names), ('mdl',))
    self.assertEqual(hlo.mesh_axes_of([[0, 4], [1, 5]], shape, names),
                     ('data',))
    self.assertEqual(hlo.mesh_axes_of([], shape, names), ('data', 'mdl'))

  def test_compiled_cpu_program(self):
    mesh = Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ('data', 'mdl'))
    x = jnp.ones((8, 16))
    w = jnp.ones((16, 32))
    f = jax.jit(lambda x, w: x @ w,
                in_shardings=(NamedSharding(mesh, P('data', 'mdl')),
                              NamedSharding(mesh, P('mdl', None))),
                out_shardings=NamedSharding(mesh, P('data', 'mdl')))
    text = f.lower(x, w).compile().as_text()
    counts = hlo.count_collectives(text)
    self.assertGreater(counts['all-reduce'] + counts['reduce-scatter'], 0)
    for c in hlo.collectives(text):
      self.assertEqual(hlo.mesh_axes_of(c.groups, (2, 4), ('data', 'mdl')),
                       ('mdl',))
    self.assertEqual(hlo.matmul_chain(text), (1, 1))
    self.assertEqual(hlo.async_overlap(text), [])  # CPU: synchronous
    self.assertEqual(hlo.shape_bytes('(f32[2,3]{1,0}, bf16[4])'), 32)


if __name__ == '__main__':
  absltest.main()
