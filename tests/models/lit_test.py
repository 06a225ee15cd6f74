# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests for vit22b_pax.models.lit (tiny stand-in image encoder)."""

import re

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle
from praxis import py_utils
from praxis import test_utils
from praxis.layers import linears

from vit22b_pax.layers import text_tower
from vit22b_pax.models import classifier
from vit22b_pax.models import lit

NestedMap = py_utils.NestedMap
PARAMS = base_layer.PARAMS


class TinyEncoder(base_layer.BaseLayer):
  """Stand-in encoder: tanh(W · mean colour), [B, H, W, 3] → [B, D].

  Attributes:
    model_dims: feature width D.
  """

  model_dims: int = 8

  def setup(self):
    self.create_child('proj', pax_fiddle.Config(
        linears.Linear, input_dims=3, output_dims=self.model_dims))

  def __call__(self, images):
    return jnp.tanh(self.proj(jnp.mean(images, axis=(1, 2))))


def _model(image_dims=8, embed_dim=6, image_proj=True):
  image_p = classifier.classifier_config(
      pax_fiddle.Config(TinyEncoder, model_dims=image_dims), num_classes=5)
  text_p = pax_fiddle.Config(
      text_tower.TextTower, max_len=8, model_dims=16, num_layers=1,
      num_heads=2, hidden_dims=32, embed_dim=embed_dim)
  return base_layer.instantiate(pax_fiddle.Config(
      lit.LiTModel, name='lit', image_tpl=image_p, text_tpl=text_p,
      image_proj=image_proj))


def _ids(rng, n, length=8):
  ids = rng.randint(3, 259, size=(n, length)).astype(np.int32)
  for row, cut in zip(ids, rng.randint(2, length + 1, size=n)):
    row[cut:] = 0
  return jnp.asarray(ids)


def var_names(model, *args):
  """'/'-joined variable paths as paxml sees them ('params/image/...')."""
  with base_layer.JaxContext.new_context():
    hparams = model.abstract_init_with_metadata(*args)
  leaves = jax.tree_util.tree_flatten_with_path(
      hparams, is_leaf=lambda x: isinstance(x, base_layer.WeightHParams))[0]
  return {'/'.join(k.key for k in path) for path, _ in leaves}


def _normalize(x):
  return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _np_contrastive(logits):
  def log_softmax(x, axis):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))
  d = np.arange(len(logits))
  return 0.5 * (-log_softmax(logits, 1)[d, d] - log_softmax(logits, 0)[d, d])


class LiTModelTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    np.random.seed(123456)
    rng = np.random.RandomState(0)
    self.batch = NestedMap(
        image=jnp.asarray(rng.randn(5, 4, 4, 3), jnp.float32),
        caption_ids=_ids(rng, 5))

  def test_contrastive_loss_matches_numpy(self):
    model = _model()
    with base_layer.JaxContext.new_context():
      variables = model.init(jax.random.PRNGKey(1), self.batch)
      preds = model.apply(variables, self.batch,
                          method=model.compute_predictions)
      metrics, _ = model.apply(variables, self.batch)
    img, txt = np.asarray(preds.image_emb), np.asarray(preds.text_emb)
    self.assertEqual(img.shape, (5, 6))
    self.assertEqual(txt.shape, (5, 6))
    self.assertAllClose(np.linalg.norm(img, axis=-1), np.ones(5))
    self.assertAllClose(np.linalg.norm(txt, axis=-1), np.ones(5))
    logits = 10.0 * img @ txt.T  # temperature_init = 10
    self.assertAllClose(preds.logits, logits, atol=1e-5)
    self.assertAllClose(metrics.temperature[0], 10.0, atol=1e-5)
    loss = np.mean(_np_contrastive(logits))
    self.assertAllClose(metrics.contrastive_loss[0], loss, atol=1e-5)
    self.assertAllClose(metrics.total_loss[0], loss, atol=1e-5)
    d = np.arange(5)
    self.assertAllClose(metrics.i2t_accuracy[0],
                        np.mean(logits.argmax(1) == d))
    self.assertAllClose(metrics.t2i_accuracy[0],
                        np.mean(logits.argmax(0) == d))

  @parameterized.named_parameters(('locked', False), ('projected', True))
  def test_image_tower_is_locked(self, image_proj):
    model = _model(image_dims=6, image_proj=image_proj)
    with base_layer.JaxContext.new_context():
      variables = model.init(jax.random.PRNGKey(1), self.batch)

    def loss_fn(params):
      with base_layer.JaxContext.new_context():
        metrics, _ = model.apply({PARAMS: params}, self.batch)
      return metrics.total_loss[0]

    grads = jax.grad(loss_fn)(variables[PARAMS])
    for g in jax.tree_util.tree_leaves(grads['image']):
      self.assertArraysEqual(g, np.zeros_like(g))
    trained = ['text', 'log_temperature'] + (
        ['image_projection'] if image_proj else [])
    self.assertEqual(set(grads), {'image', *trained})
    for name in trained:
      norm = sum(float(jnp.sum(g * g))
                 for g in jax.tree_util.tree_leaves(grads[name]))
      self.assertGreater(norm, 0.0, msg=name)

  def test_exclusion_and_load_rule(self):
    model = _model(image_dims=6, image_proj=True)
    names = var_names(model, self.batch)
    excluded = {n for n in names if re.fullmatch(lit.IMAGE_EXCLUSION, n)}
    self.assertEqual(excluded, {n for n in names if '/image/' in n})
    self.assertIn('params/image_projection/linear/w', names - excluded)
    self.assertIn('params/log_temperature', names - excluded)
    # Locked variables map onto the stand-alone classifier's variables (LiT
    # uses only its `network`, so the head is not needed).
    pattern, fmt = lit.IMAGE_LOAD_RULE
    mapped = {fmt.format(*re.match(pattern, n).groups()) for n in excluded}
    image = base_layer.instantiate(model.image_tpl.clone().set(name='cls'))
    batch = NestedMap(image=self.batch.image, label_probs=jnp.ones([5, 5]))
    image_names = var_names(image, batch)
    self.assertEqual(mapped, {n for n in image_names if '/network/' in n})

  def test_zeroshot_known_answer(self):
    # Locked 3-d features = tanh(mean colour) (W = I); each image's colour is
    # chosen so its embedding equals its class prompt embedding: prediction
    # = that class. Two of six labels are deliberately wrong → accuracy 4/6.
    model = _model(image_dims=3, embed_dim=3, image_proj=False)
    rng = np.random.RandomState(1)
    prompts = _ids(rng, 4)  # [K, L], one prompt per class
    true_class = np.array([0, 1, 2, 3, 1, 2])
    labels = np.array([0, 1, 2, 3, 0, 0])
    batch = NestedMap(image=jnp.zeros((6, 4, 4, 3)),
                      label=jnp.asarray(labels, jnp.int32),
                      class_prompt_ids=prompts)
    # [K, P, L]: P = 2 templates per class, embeddings averaged.
    ensemble = jnp.stack([prompts, prompts[::-1]], axis=1)
    with base_layer.JaxContext.new_context():
      variables = model.init(jax.random.PRNGKey(1), batch)
      class_emb = np.asarray(model.apply(
          variables, prompts, method=model.class_embeddings))
      ensemble_emb = model.apply(
          variables, ensemble, method=model.class_embeddings)
    self.assertEqual(class_emb.shape, (4, 3))
    self.assertAllClose(np.linalg.norm(class_emb, axis=-1), np.ones(4))
    self.assertAllClose(ensemble_emb,
                        _normalize(class_emb + class_emb[::-1]), atol=1e-5)

    params = jax.tree_util.tree_map(np.asarray, variables[PARAMS])
    params['image']['network']['proj']['w'] = np.eye(3, dtype=np.float32)
    colours = np.arctanh(0.5 * class_emb[true_class])  # [6, 3]
    batch.image = jnp.asarray(
        np.broadcast_to(colours[:, None, None], (6, 4, 4, 3)), jnp.float32)
    with base_layer.JaxContext.new_context():
      metrics, out = model.apply({PARAMS: params}, batch)
      logits = model.apply({PARAMS: params}, batch.image, prompts,
                           method=model.zeroshot_logits)
    self.assertEqual(logits.shape, (6, 4))
    self.assertArraysEqual(np.argmax(logits, -1), true_class)
    self.assertAllClose(np.max(logits, -1), np.ones(6), atol=1e-5)
    self.assertAllClose(out.zeroshot_logits, logits)
    self.assertAllClose(metrics.zeroshot_accuracy[0], 4.0 / 6.0)
    # A zero-shot eval batch (no captions) has no contrastive metrics.
    self.assertNotIn('contrastive_loss', metrics)

  def test_dim_mismatch_without_projection_raises(self):
    model = _model(image_dims=8, embed_dim=6, image_proj=False)
    with self.assertRaisesRegex(
        ValueError, 'image feature dim 8 != text embed_dim 6'):
      with base_layer.JaxContext.new_context():
        model.init(jax.random.PRNGKey(1), self.batch)

  def test_batch_without_text_raises(self):
    model = _model()
    with self.assertRaisesRegex(ValueError,
                                "'caption_ids'.*'class_prompt_ids'"):
      with base_layer.JaxContext.new_context():
        model.init(jax.random.PRNGKey(1), NestedMap(image=self.batch.image))


if __name__ == '__main__':
  absltest.main()
