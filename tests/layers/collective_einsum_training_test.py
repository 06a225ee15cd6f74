# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Training with ring collective matmuls == XLA's default, and it shows.

An encoder + classifier (scan over blocks, save-nothing remat, non-zero head
init, so encoder gradients reach the loss from the first step) trains for a
few SGD steps on 8 fake CPU devices, mesh (replica, data, mdl) = [1, 2, 4],
with the block matmuls as rings and with XLA's partitioning. The losses of
every step and the final parameters must agree; and the same comparison must
FAIL when a ring backward is sign-flipped (so it can catch a wrong
backward, which a zero-initialised head hides).
"""

from unittest import mock

from absl.testing import absltest
import jax
from jax import numpy as jnp
from jax.sharding import Mesh
import numpy as np
from praxis import base_layer
from praxis import test_utils

from vit22b_pax.layers import collective_einsum as ce
from vit22b_pax.core import collective_matmul as cm
from vit22b_pax.layers import sharding
from vit22b_pax.layers import variants

MESH = (1, 2, 4)
STEPS = 3
LR = 0.1
TOL = 1e-4


def _encoder(on: bool):
  p = variants.encoder_config(
      'Ti/4', 16, model_dims=32, num_layers=2, hidden_dims=64, num_heads=4,
      scan=True, remat_policy='save_nothing', pooling='gap',
      attention_summaries=False)
  sharding.set_sharding(p, ici_mesh_shape=list(MESH))
  if on:
    ce.enable_collective_matmul(p, mode='auto')
  return p


def _train(p) -> tuple[np.ndarray, dict]:
  """Losses of STEPS SGD steps and the final parameters."""
  rng = np.random.default_rng(0)
  images = rng.standard_normal((8, 16, 16, 3)).astype(np.float32)
  labels = rng.integers(0, 10, 8)
  layer = base_layer.instantiate(p)
  mesh = Mesh(np.array(jax.devices()[:8]).reshape(MESH),
              sharding.MESH_AXIS_NAMES)
  with base_layer.JaxContext.new_context(), mesh:
    enc = layer.init(jax.random.PRNGKey(1), images)[base_layer.PARAMS]
    head = {'w': jnp.asarray(rng.standard_normal((32, 10)) * 0.5,
                             jnp.float32),
            'b': jnp.zeros((10,), jnp.float32)}
    params = {'enc': enc, 'head': head}

    def loss_fn(params):
      feats = layer.apply({base_layer.PARAMS: params['enc']}, images)
      logits = feats @ params['head']['w'] + params['head']['b']
      logp = jax.nn.log_softmax(logits)
      return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))

    @jax.jit
    def step(params):
      loss, grads = jax.value_and_grad(loss_fn)(params)
      return loss, jax.tree_util.tree_map(lambda w, g: w - LR * g, params,
                                          grads)

    losses = []
    for _ in range(STEPS):
      loss, params = step(params)
      losses.append(float(loss))
  return np.array(losses), params


def _deviation(a, b) -> float:
  """Largest relative difference of losses and parameters."""
  (la, pa), (lb, pb) = a, b
  dev = float(np.max(np.abs(la - lb) / np.abs(la)))
  for x, y in zip(jax.tree_util.tree_leaves(pa), jax.tree_util.tree_leaves(pb)):
    scale = max(float(np.abs(x).max()), 1e-6)
    dev = max(dev, float(np.abs(np.asarray(x) - np.asarray(y)).max()) / scale)
  return dev


def _flipped(fn):
  def flipped(*args):
    return jax.tree_util.tree_map(jnp.negative, fn(*args))
  return flipped


class CollectiveTrainingTest(test_utils.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.off = _train(_encoder(False))

  def test_ring_training_equals_xla(self):
    on = _train(_encoder(True))
    self.assertLess(_deviation(self.off, on), TOL)
    # Training did move: a discriminating setting, not a constant loss.
    self.assertGreater(abs(self.off[0][-1] - self.off[0][0]), 1e-3)

  def test_sign_flipped_backwards_fail_the_comparison(self):
    for name in ('rs_backward', 'ag_backward'):
      with mock.patch.object(cm, name, _flipped(getattr(cm, name))):
        flipped = _train(_encoder(True))
      self.assertGreater(_deviation(self.off, flipped), 100 * TOL, name)


if __name__ == '__main__':
  absltest.main()
