# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Checks the scale plan's memory model against XLA's compiled step.

A reduced ViT-22B (the parameters `model_weights` reads from the sharded
encoder + classifier, fused parallel block, GAP pooling, with optax's
Adafactor: bf16 momentum, factored second moment) is jitted as one
train step on a data=4 x mdl=2 mesh of 8 fake CPU devices; XLA's buffer
assignment gives per-device argument and temp bytes, which are compared with
`make_plan`:

* arguments (parameters + optimizer state + the device's batch): the
  plan's params + opt_momentum + opt_second_moment + input bytes, within
  3% (the rest are scalars: step count, and padding);
* saved activations: XLA's per-device output bytes of the jitted forward
  pass that returns the backward residuals (`jax.vjp`), grown by two more
  examples per device (so residuals that do not grow with the batch, such
  as weights kept for the backward, cancel), against the plan's
  `activations_saved` per example, for 'full' (every intermediate) and
  'nothing_saveable' (block inputs only; ~12x less here, so a wrong policy
  model fails). Within 10%: the analytic count lists every residual, XLA
  only adds alignment and the few scalars per example (rsqrt of a norm).

Temp bytes of the whole step are not compared: the CPU scheduler's buffer
reuse differs from TPU/GPU, so they say little about device memory.
"""

import math

from absl.testing import absltest
from absl.testing import parameterized
import jax
from jax.experimental import mesh_utils
import jax.numpy as jnp
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np
import optax
from praxis import test_utils

from vit22b_pax.layers import variants
from vit22b_pax.perf import flops
from vit22b_pax.runtime import plan as plan_lib

def _reduced_variant():
  """A small size outside the table: D 128, L 2, F 640, 4 heads, patch 8."""
  return variants.encoder_config('Ti/8', 32, model_dims=128, num_layers=2,
                                 hidden_dims=640, num_heads=4, pooling='gap')


def _rms(x, scale):
  x32 = x.astype(jnp.float32)
  y = x32 * jax.lax.rsqrt(jnp.mean(x32 * x32, -1, keepdims=True) + 1e-6)
  return (y * scale).astype(x.dtype)


def _spec(w):
  return P(*(None if e == -1 else e for e in w.shard))


def build_loss(variant, image_size, num_classes, mesh, remat):
  """Returns (sharded params, loss_fn(params, images, labels))."""
  weights = plan_lib.model_weights(variant, num_classes,
                                   dict(zip(mesh.axis_names,
                                            mesh.devices.shape)))
  key = jax.random.PRNGKey(0)
  params, shard = {}, {}
  for w in weights:
    for i in range(w.count):
      key, sub = jax.random.split(key)
      name = f'{w.name}/{i}'
      params[name] = 0.02 * jax.random.normal(sub, w.shape, jnp.float32)
      shard[name] = NamedSharding(mesh, _spec(w))
  params = jax.device_put(params, shard)
  blk = 'network/blocks/block'
  depth = sum(1 for k in params if k.startswith(f'{blk}/w_in/'))
  d, n, e = params[f'{blk}/w_in/0'].shape
  hdim = params[f'{blk}/q_norm/scale/0'].shape[0]
  patch = params['network/patch_w/0'].shape[0]
  act = lambda x, spec: jax.lax.with_sharding_constraint(
      x, NamedSharding(mesh, spec))

  def block(x, p, i):
    g = lambda k: p[f'{blk}/{k}/{i}']
    xn = act(_rms(x, g('norm/scale')), P('data', None, None))
    h = act(jnp.einsum('btd,dne->btne', xn, g('w_in')),
            P('data', None, 'mdl', None))
    q, k, v, m = jnp.split(h, [hdim, 2 * hdim, 3 * hdim], axis=-1)
    q = _rms(q, g('q_norm/scale'))
    k = _rms(k, g('k_norm/scale'))
    probs = jax.nn.softmax(
        jnp.einsum('btnh,bsnh->bnts', q, k) / math.sqrt(hdim), axis=-1)
    ctx = jnp.einsum('bnts,bsnh->btnh', probs, v)
    m = jax.nn.gelu(m + g('b_mlp_in'))
    y = jnp.einsum('btnc,ncd->btd', jnp.concatenate([ctx, m], -1),
                   g('w_out'))
    return act(x + y + g('b_out'), P('data', None, 'mdl'))

  def loss_fn(p, images, labels):
    b = images.shape[0]
    grid = image_size // patch
    x = images.reshape(b, grid, patch, grid, patch, 3)
    x = x.transpose(0, 1, 3, 2, 4, 5).reshape(b, grid * grid, -1)
    x = (x @ p['network/patch_w/0'].reshape(-1, d) + p['network/patch_b/0']
         + p['network/pos_emb/0'][0])
    x = act(x, P('data', None, 'mdl'))
    for i in range(depth):
      f = lambda x, p_, i=i: block(x, p_, i)
      if remat == 'nothing_saveable':
        f = jax.checkpoint(f, policy=jax.checkpoint_policies.nothing_saveable)
      x = f(x, p)
    x = jnp.mean(_rms(x, p['network/encoder_norm/scale/0']), axis=1)
    logits = (x @ p['softmax/logits_ffn/linear/w/0']
              + p['softmax/logits_ffn/bias/b/0'])
    return -jnp.mean(jnp.take_along_axis(
        jax.nn.log_softmax(logits), labels[:, None], axis=1))

  return params, loss_fn


def build_step(variant, image_size, num_classes, mesh, remat):
  """Returns (params, opt state, jitted train_step) for the reduced model."""
  params, loss_fn = build_loss(variant, image_size, num_classes, mesh, remat)
  opt = optax.adafactor(
      learning_rate=1e-3, min_dim_size_to_factor=32,
      multiply_by_parameter_scale=False, clipping_threshold=None,
      momentum=0.9, dtype_momentum=jnp.bfloat16)
  opt_state = jax.jit(opt.init)(params)

  def train_step(p, s, images, labels):
    loss, grads = jax.value_and_grad(loss_fn)(p, images, labels)
    updates, s = opt.update(grads, s, p)
    return optax.apply_updates(p, updates), s, loss

  return params, opt_state, jax.jit(train_step, donate_argnums=(0, 1))


def _mesh():
  devices = mesh_utils.create_device_mesh((4, 2), jax.devices()[:8])
  return Mesh(devices, ('data', 'mdl'))


def _batch(mesh, batch, image_size):
  return (jax.ShapeDtypeStruct((batch, image_size, image_size, 3),
                               jnp.float32,
                               sharding=NamedSharding(mesh, P('data'))),
          jax.ShapeDtypeStruct((batch,), jnp.int32,
                               sharding=NamedSharding(mesh, P('data'))))


def residual_bytes(variant, image_size, num_classes, batch, remat):
  """Per-device bytes of the forward pass's saved residuals, from XLA."""
  mesh = _mesh()
  params, loss_fn = build_loss(variant, image_size, num_classes, mesh, remat)
  fwd = jax.jit(
      lambda p, im, lb: jax.vjp(lambda p: loss_fn(p, im, lb), p)[1])
  lowered = fwd.lower(params, *_batch(mesh, batch, image_size))
  return plan_lib.xla_memory_stats(lowered)['output']


class PlanMemoryTest(test_utils.TestCase):

  def test_arguments_match_xla(self):
    variant = _reduced_variant()
    batch, image_size, classes = 8, 32, 48
    mesh = _mesh()
    params, state, step = build_step(variant, image_size, classes, mesh,
                                     'full')
    got = plan_lib.xla_memory_stats(
        step.lower(params, state, *_batch(mesh, batch, image_size)))
    plan = plan_lib.make_plan(variant, image_size, batch,
                              {'data': 4, 'mdl': 2}, 'tpu-v4', 'full',
                              num_classes=classes, act_dtype='float32')
    mem = plan.results['memory_bytes']
    inputs = (batch // 4) * (image_size**2 * 3 * 4 + 4)
    want = (mem['params'] + mem['opt_momentum'] + mem['opt_second_moment']
            + inputs)
    self.assertBetween(got['argument'] / want, 0.97, 1.03)

  @parameterized.parameters('full', 'nothing_saveable')
  def test_saved_activations_match_xla(self, remat):
    variant = _reduced_variant()
    image_size, classes = 32, 48
    # Two batch sizes: residuals that do not grow with the batch (weights
    # kept for the backward pass) cancel; 2 more examples per device.
    grow = (residual_bytes(variant, image_size, classes, 16, remat) -
            residual_bytes(variant, image_size, classes, 8, remat)) / 2
    plan = plan_lib.make_plan(variant, image_size, 4, {'data': 4, 'mdl': 2},
                              'tpu-v4', remat, num_classes=classes,
                              act_dtype='float32')
    want = plan.results['memory_bytes']['activations_saved']
    self.assertBetween(grow / want, 0.9, 1.1)


class PlanTest(test_utils.TestCase):

  def test_weights_carry_set_sharding_splits(self):
    weights = {w.name: w for w in plan_lib.model_weights(
        _reduced_variant(), 48, {'data': 4, 'mdl': 2})}
    w_in = weights['network/blocks/block/w_in']
    self.assertEqual((w_in.count, w_in.shape, w_in.shard),
                     (2, (128, 4, 3 * 32 + 160), ('data', 'mdl', None)))
    # The stem and position embedding are split on 'mdl' only, the
    # classifier is replicated: what set_sharding sets, not an assumption.
    self.assertEqual(weights['network/pos_emb'].shard, (None, None, 'mdl'))
    self.assertEqual(weights['network/patch_w'].shard,
                     (None, None, None, 'mdl'))
    self.assertEqual(weights['softmax/logits_ffn/linear/w'].shard,
                     (None, None))
    # Every parameter, counted once: the same total as perf.flops.
    total = sum(math.prod(w.shape) * w.count for w in weights.values())
    self.assertEqual(total, flops.encoder_flops(_reduced_variant(), 32,
                                                48).num_params)

  def test_paper_setup(self):
    plan = plan_lib.make_plan('22B/14', 224, 65536, {'data': 256, 'mdl': 4},
                              'tpu-v4', 'nothing_saveable')
    r = plan.results
    # Encoder 21.75B + MAP head 0.45B + classifier 6M.
    self.assertAlmostEqual(r['num_params'] / 1e9, 22.21, delta=0.01)
    self.assertTrue(r['fits'])
    # Paper's measured 54.9% MFU lies below the no-overhead bound, which is
    # model / executed FLOPs when compute-bound.
    self.assertBetween(r['mfu_overlapped'], 0.549,
                       r['model_flops_per_device'] /
                       r['hw_flops_per_device'] + 1e-9)
    # Remat recomputes the blocks' forward but their output matmuls:
    # executed - model = batch x tokens x (forward - 2 x output params).
    d, f, layers, t = 6144, 24576, 48, 256
    blocks = flops.encoder_param_counts(
        plan_lib._encoder('22B/14', 224)[0])['blocks']
    recompute = (2 * blocks + 4 * layers * d * t - 2 * layers * (d + f) * d)
    self.assertAlmostEqual(
        r['hw_flops_per_device'] - r['model_flops_per_device'],
        recompute * t * 65536 / 1024, delta=1e6)
    # FSDP all-gather: a layer's weights, bf16, 1/mdl of them, 255/256.
    layer = 6144 * (4 * 6144 + 2 * 24576)
    self.assertAlmostEqual(
        r['comm_bytes_per_layer']['fsdp_all_gather_weights(data)'],
        2 * (layer / 4 * 2 * 255 / 256))

  def test_bad_inputs(self):
    with self.assertRaisesRegex(ValueError, 'multiple of the data-parallel'):
      plan_lib.make_plan('B/16', 224, 10, {'data': 4}, 'tpu-v4')
    with self.assertRaisesRegex(ValueError, 'Unknown chip'):
      plan_lib.make_plan('B/16', 224, 8, {'data': 4}, 'tpu-v9')
    with self.assertRaisesRegex(ValueError, 'Bad --mesh'):
      plan_lib.parse_mesh('data=4,mdl')


if __name__ == '__main__':
  absltest.main()
