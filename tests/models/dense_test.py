# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests of DenseModel's predictions, losses and metrics."""

import functools

from absl.testing import absltest
from absl.testing import parameterized
import jax
from jax.experimental import pjit
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import py_utils
from praxis import test_utils

from tests.eval import dense_metrics_test as dmt
from vit22b_pax.layers import decoders
from vit22b_pax.layers import dpt
from vit22b_pax.layers import sharding
from vit22b_pax.layers import variants
from vit22b_pax.models import dense

NestedMap = py_utils.NestedMap
K = 4


def network(**kw):
  return variants.encoder_config(
      'Ti/4', 16, model_dims=16, num_layers=4, hidden_dims=32, num_heads=2,
      pooling='gap', feature_layers=(0, 1, 2, 3), **kw)


DECODERS = dict(
    linear=pax_fiddle.Config(decoders.LinearDecoder),
    progressive=pax_fiddle.Config(decoders.ProgressiveDecoder, hidden_dims=8),
    dpt=pax_fiddle.Config(dpt.DPTDecoder, reassemble_dims=(4, 4, 8, 8),
                          fusion_dims=8, head_dims=4))


def batch(h=12, w=20, b=3, seed=0):
  rng = np.random.default_rng(seed)
  label = rng.integers(-1, K, (b, h, w)).astype(np.int32)
  depth = rng.uniform(0.5, 12, (b, h, w)).astype(np.float32)
  valid = (rng.random((b, h, w)) < 0.8).astype(np.float32)
  depth = np.where(valid > 0, depth, 0.0).astype(np.float32)
  return NestedMap(
      image=rng.uniform(-1, 1, (b, h, w, 3)).astype(np.float32),
      label=label, depth=depth, depth_valid=valid,
      eval_sample_weights=np.array([1, 1, 0][:b], np.float32))


def run(model_p, inputs, method=None):
  model = base_layer.instantiate(model_p)
  with base_layer.JaxContext.new_context():
    v = model.init(jax.random.PRNGKey(1), inputs)
    if method is None:
      return model.apply(v, inputs), v, model
    return model.apply(v, inputs, method=getattr(model, method)), v, model


class DenseModelTest(test_utils.TestCase):

  @parameterized.named_parameters(
      *[(f'{name}_{task}', name, task) for name in DECODERS
        for task in ('segmentation', 'depth')])
  def test_output_shapes_non_square(self, name, task):
    p = dense.dense_model_config(network(), DECODERS[name], task,
                                 num_classes=K)
    pred, _, _ = run(p, batch(12, 20), 'compute_predictions')
    if task == 'segmentation':
      self.assertEqual(pred.logits.shape, (3, 12, 20, K))
      self.assertEqual(pred.label.shape, (3, 12, 20))
    else:
      self.assertEqual(pred.depth.shape, (3, 12, 20))
      self.assertTrue(np.all(pred.depth > 0))

  def test_segmentation_loss_and_metrics_match_numpy(self):
    p = dense.dense_model_config(network(), DECODERS['linear'],
                                 'segmentation', num_classes=K)
    inputs = batch()
    (metrics, _), _, _ = run(p, inputs)
    pred, _, _ = run(p, inputs, 'compute_predictions')
    logits = np.asarray(pred.logits, np.float64)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    lab = inputs.label
    mask = (lab >= 0) & (inputs.eval_sample_weights[:, None, None] > 0)
    want = -np.mean(np.take_along_axis(logp, np.maximum(lab, 0)[..., None],
                                       -1)[..., 0][mask])
    self.assertAllClose(want, metrics['total_loss'].compute(), rtol=1e-5,
                        check_dtypes=False)
    self.assertEqual(float(metrics['total_loss'].weight), mask.sum())
    got = metrics['seg'].compute()
    ref = dmt.np_seg_scores([lab], [logits.argmax(-1)],
                            [mask.astype(np.float32)], K)
    for k, v in ref.items():
      self.assertAlmostEqual(got[k], v, places=10)

  @parameterized.named_parameters(('l1', 'l1'), ('silog', 'silog'))
  def test_depth_loss_matches_numpy(self, loss):
    p = dense.dense_model_config(network(), DECODERS['linear'], 'depth',
                                 depth_loss=loss, silog_lambda=0.5,
                                 max_depth=10.0)
    inputs = batch()
    (metrics, _), _, _ = run(p, inputs)
    pred, _, _ = run(p, inputs, 'compute_predictions')
    d_hat = np.asarray(pred.depth, np.float64)
    d = inputs.depth.astype(np.float64)
    mask = ((inputs.depth_valid > 0) & (d >= 1e-3) & (d <= 10.0)
            & (inputs.eval_sample_weights[:, None, None] > 0))
    if loss == 'l1':
      want = np.abs(d_hat - d)[mask].mean()
    else:
      per, weights = [], []
      for i in range(3):
        g = np.log(d_hat[i][mask[i]]) - np.log(d[i][mask[i]])
        if g.size:
          per.append(np.mean(g ** 2) - 0.5 * np.mean(g) ** 2)
          weights.append(g.size)
      want = np.average(per, weights=weights)
    self.assertAllClose(want, metrics['total_loss'].compute(), rtol=1e-4,
                        check_dtypes=False)
    # Metrics: per image with the strict mask by default; the former pooled
    # inclusive ones as options.
    got = metrics['depth'].compute()
    ref = dmt.np_depth_scores_per_image([d_hat], [d],
                                        [mask.astype(np.float32)], 1e-3, 10.0)
    for k, v in ref.items():
      self.assertAllClose(v, got[k], rtol=1e-4, atol=1e-6, err_msg=k)
    p.depth_metric_reduction, p.depth_valid_mask = 'pooled', 'inclusive'
    (metrics, _), _, _ = run(p, inputs)
    got = metrics['depth'].compute()
    ref = dmt.np_depth_scores([d_hat], [d], [mask.astype(np.float32)], 1e-3,
                              10.0)
    for k, v in ref.items():
      self.assertAllClose(v, got[k], rtol=1e-4, atol=1e-6, err_msg=k)

  @parameterized.named_parameters(('frozen', True), ('trained', False))
  def test_freeze_encoder_stops_backbone_gradients(self, freeze):
    p = dense.dense_model_config(network(), DECODERS['progressive'],
                                 'segmentation', num_classes=K,
                                 freeze_encoder=freeze)
    inputs = batch()
    _, v, model = run(p, inputs)

    def loss(params):
      with base_layer.JaxContext.new_context():
        metrics, _ = model.apply({'params': params}, inputs)
      return metrics['total_loss'].compute()

    grads = jax.grad(loss)(v['params'])
    net = sum(float(np.abs(g).sum())
              for g in jax.tree_util.tree_leaves(grads['network']))
    dec = sum(float(np.abs(g).sum())
              for g in jax.tree_util.tree_leaves(grads['decoder']))
    self.assertGreater(dec, 0.0)
    if freeze:
      self.assertEqual(net, 0.0)
    else:
      self.assertGreater(net, 0.0)

  def test_sharded_equals_unsharded(self):
    """Encoder 2-D sharded, decoder maps split over the batch, on 8 fake
    devices: same loss, depth and decoder gradients as one device."""
    if jax.device_count() < 8:
      self.skipTest('needs 8 devices (tests/conftest.py sets them)')
    mesh_shape = (1, 4, 2)
    inputs = batch(8, 12, b=4)
    inputs.eval_sample_weights = np.ones(4, np.float32)

    def loss_fn(model, v, b):
      def loss(v):
        with base_layer.JaxContext.new_context():
          metrics, _ = model.apply(v, b)
          pred = model.apply(v, b, method=model.compute_predictions)
        return metrics['total_loss'].compute(), pred.depth
      return jax.value_and_grad(loss, has_aux=True)(v)

    plain_p = dense.dense_model_config(network(), DECODERS['dpt'], 'depth')
    plain = base_layer.instantiate(plain_p)
    with base_layer.JaxContext.new_context():
      v = plain.init(jax.random.PRNGKey(1), inputs)
    (loss, depth), grads = jax.jit(functools.partial(loss_fn, plain))(
        v, inputs)

    dec = DECODERS['dpt'].clone()
    dec.activation_split_dims_mapping.bhwc = (('replica', 'data'), None,
                                              None, None)
    sharded_p = dense.dense_model_config(
        sharding.set_sharding(network(), ici_mesh_shape=mesh_shape), dec,
        'depth')
    sharded_p.ici_mesh_shape = list(mesh_shape)
    sharded_p.mesh_axis_names = list(sharding.MESH_AXIS_NAMES)
    sharded = base_layer.instantiate(sharded_p)
    with base_layer.JaxContext.new_context():
      var_hparams = sharded.abstract_init_with_metadata(inputs)
    pspecs = base_layer.var_partition_specs(var_hparams, mesh_shape,
                                            sharding.MESH_AXIS_NAMES)
    self.assertIn('mdl', tuple(pspecs['params']['network']['blocks']
                               ['block']['w_in']))
    batch_spec = jax.tree_util.tree_map(
        lambda _: jax.sharding.PartitionSpec(('replica', 'data')), inputs)
    step = pjit.pjit(functools.partial(loss_fn, sharded),
                     in_shardings=(pspecs, batch_spec), out_shardings=None)
    mesh = jax.sharding.Mesh(
        np.array(jax.devices()[:8]).reshape(mesh_shape),
        sharding.MESH_AXIS_NAMES)
    with mesh:
      (loss_s, depth_s), grads_s = step(v, inputs)
    self.assertAllClose(loss, loss_s, rtol=1e-5)
    self.assertAllClose(depth, depth_s, rtol=1e-4, atol=1e-5)
    for g, g_s in zip(jax.tree_util.tree_leaves(grads['params']['decoder']),
                      jax.tree_util.tree_leaves(
                          grads_s['params']['decoder'])):
      self.assertAllClose(g, g_s, rtol=1e-4,
                          atol=1e-5 * max(1.0, float(np.abs(g).max())))

  @parameterized.named_parameters(
      ('task', dict(task='pose'), "Unknown task='pose'"),
      ('classes', dict(num_classes=1), 'num_classes >= 2, got 1'),
      ('loss', dict(depth_loss='l2'), "Unknown depth_loss='l2'"),
      ('range', dict(min_depth=5.0, max_depth=2.0), 'min_depth=5.0, '
       'max_depth=2.0'),
      ('reduction', dict(depth_metric_reduction='mean'),
       "Unknown depth metric reduction 'mean'"),
      ('mask', dict(depth_valid_mask='open'),
       "Unknown depth valid mask 'open'"),
  )
  def test_bad_config(self, overrides, message):
    kw = dict(task='segmentation', num_classes=K)
    kw.update(overrides)
    task = kw.pop('task')
    p = dense.dense_model_config(network(), DECODERS['linear'], task, **kw)
    with self.assertRaisesRegex(ValueError, message):
      run(p, batch())

  def test_needs_feature_layers(self):
    net = variants.encoder_config('Ti/4', 16, model_dims=16, num_layers=2,
                                  hidden_dims=32, num_heads=2)
    p = dense.dense_model_config(net, DECODERS['linear'], 'depth')
    with self.assertRaisesRegex(ValueError, 'needs network_tpl with '
                                'feature_layers'):
      run(p, batch())


if __name__ == '__main__':
  absltest.main()
