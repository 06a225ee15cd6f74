# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""VideoClassifier: frame folding, heads, single-frame mode, frozen encoder."""

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
from praxis import base_layer
from praxis import py_utils
from praxis import test_utils

from tests.layers import parallel_block_test as pbt
from vit22b_pax.layers import variants
from vit22b_pax.models import video

NestedMap = py_utils.NestedMap
B, T, S, K = 2, 3, 16, 6


def _encoder():
  return variants.encoder_config('Ti/8', S, model_dims=16, num_layers=1,
                                 hidden_dims=32, num_heads=2, pooling='gap')


def _batch(seed=0):
  rng = np.random.default_rng(seed)
  label = np.array([1, 4])
  return NestedMap(
      video=rng.uniform(-1, 1, (B, T, S, S, 3)).astype(np.float32),
      label=label.astype(np.int32),
      label_probs=np.eye(K, dtype=np.float32)[label],
      eval_sample_weights=np.ones(B, np.float32))


def _model(**kw):
  p = video.video_classifier_config(_encoder(), K, T, num_motions=3, **kw)
  return base_layer.instantiate(p)


def _init(model, batch):
  with base_layer.JaxContext.new_context():
    variables = model.init(jax.random.PRNGKey(0), batch)
  return {'params': pbt.randomize(variables['params'], 4)}


def _predict(model, variables, batch):
  with base_layer.JaxContext.new_context():
    return model.apply(variables, batch, method=model.compute_predictions)


class VideoClassifierTest(test_utils.TestCase):

  @parameterized.parameters('map', 'transformer')
  def test_matches_frame_by_frame_composition(self, head):
    model = _model(head=head)
    batch = _batch()
    variables = _init(model, batch)
    p = variables['params']
    self.assertIn('network', p)
    self.assertIn('temporal_head', p)
    out = _predict(model, variables, batch)
    # Reference: the encoder on one frame at a time, then the head alone.
    enc = base_layer.instantiate(_encoder())
    head_p = model.temporal_head_tpl.clone()
    head_p.model_dims, head_p.num_frames, head_p.num_heads = 16, T, 2
    head_layer = base_layer.instantiate(head_p)
    per_frame = []
    with base_layer.JaxContext.new_context():
      for t in range(T):
        frame = batch.video[:, t]
        method = (lambda m, f: m.tokens(f)) if head == 'map' else None
        per_frame.append(enc.apply({'params': p['network']}, frame,
                                   method=method))
      x = jnp.stack(per_frame, 1)
      feats = head_layer.apply({'params': p['temporal_head']}, x)
    self.assertAllClose(out.features, feats, atol=1e-5)
    w = p['softmax']['logits_ffn']['linear']['w']
    bias = p['softmax']['logits_ffn']['bias']['b']
    self.assertAllClose(out.softmax_output.logits,
                        np.asarray(feats) @ np.asarray(w) + np.asarray(bias),
                        atol=1e-4)

  def test_middle_frame_mode_sees_only_the_middle_frame(self):
    model = _model(frames='middle')
    batch = _batch()
    variables = _init(model, batch)
    self.assertEqual(variables['params']['temporal_head']['time_emb'].shape,
                     (1, 16))
    out = _predict(model, variables, batch)
    changed = _batch(seed=1)
    changed.video[:, T // 2] = batch.video[:, T // 2]
    self.assertAllClose(out.features,
                        _predict(model, variables, changed).features)
    # The full model does see the other frames.
    full = _model()
    fv = _init(full, batch)
    self.assertGreater(np.abs(_predict(full, fv, batch).features -
                              _predict(full, fv, changed).features).max(),
                       1e-3)

  @parameterized.parameters(True, False)
  def test_frozen_encoder_gets_no_gradient(self, freeze):
    model = _model(freeze_encoder=freeze)
    batch = _batch()
    variables = _init(model, batch)

    def loss(params):
      with base_layer.JaxContext.new_context():
        (metrics, _) = model.apply({'params': params}, batch)
      return metrics['total_loss'][0]

    grads = jax.grad(loss)(variables['params'])
    net = max(float(jnp.abs(g).max())
              for g in jax.tree_util.tree_leaves(grads['network']))
    head = max(float(jnp.abs(g).max())
               for g in jax.tree_util.tree_leaves(grads['temporal_head']))
    self.assertGreater(head, 0.0)
    if freeze:
      self.assertEqual(net, 0.0)
    else:
      self.assertGreater(net, 0.0)

  def test_shape_and_motion_accuracy(self):
    model = _model()
    batch = _batch()
    variables = _init(model, batch)
    # Labels 1 = (shape 0, motion 1) and 2 = (shape 0, motion 2); the bias
    # forces both predictions to class 2.
    p = variables['params']
    p['softmax']['logits_ffn']['linear']['w'] = np.zeros((16, K), np.float32)
    p['softmax']['logits_ffn']['bias']['b'] = np.float32([0, 0, 9, 0, 0, 0])
    batch.label_probs = np.eye(K, dtype=np.float32)[[1, 2]]
    with base_layer.JaxContext.new_context():
      metrics, _ = model.apply(variables, batch)
    self.assertAllClose(metrics['accuracy'][0], 0.5)
    self.assertAllClose(metrics['shape_accuracy'][0], 1.0)
    self.assertAllClose(metrics['motion_accuracy'][0], 0.5)

  @parameterized.parameters('map', 'transformer')
  def test_flops_per_example(self, head):
    from vit22b_pax.perf import flops  # pylint: disable=g-import-not-at-top
    frame = flops.encoder_flops(_encoder(), S).forward_per_image
    d, f, k = 16, 64, K
    full = _model(head=head).flops_per_example(S)
    middle = _model(head=head, frames='middle').flops_per_example(S)
    probe = 2 * (4 * d * d + 2 * d * f)
    if head == 'map':  # 4 tokens per frame (16 px, patch 8).
      head_fwd = lambda t: (4 * d * d + 4 * d) * 4 * t + probe
    else:  # One block over t frame embeddings, mean pooling.
      head_fwd = lambda t: 2 * (4 * d * d + 2 * d * f) * t + 4 * d * t * t
    for got, t in ((full, T), (middle, 1)):
      self.assertAlmostEqual(got, t * frame + 3 * (head_fwd(t) + 2 * d * k))

  def test_bad_input(self):
    model = _model()
    batch = _batch()
    variables = _init(model, batch)
    batch.video = batch.video[:, :2]
    with self.assertRaisesRegex(ValueError, r'T=3.*\(2, 2, 16, 16, 3\)'):
      _predict(model, variables, batch)
    with self.assertRaisesRegex(ValueError, "Unknown head='lstm'"):
      video.video_classifier_config(_encoder(), K, T, head='lstm')
    with self.assertRaisesRegex(ValueError, "Unknown frames='first'"):
      video.video_classifier_config(_encoder(), K, T, frames='first')


if __name__ == '__main__':
  absltest.main()
