# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests for vit22b_pax.models.distillation (tiny stand-in encoders)."""

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
from praxis.layers import stochastics

from vit22b_pax.models import classifier
from vit22b_pax.models import distillation

NestedMap = py_utils.NestedMap
PARAMS, RANDOM = base_layer.PARAMS, base_layer.RANDOM


class TinyEncoder(base_layer.BaseLayer):
  """Stand-in encoder: mean colour → linear → tanh → dropout, [B, D].

  Attributes:
    model_dims: feature width D.
    keep_prob: dropout keep probability (1.0 = no dropout).
  """

  model_dims: int = 8
  keep_prob: float = 1.0

  def setup(self):
    self.create_child('proj', pax_fiddle.Config(
        linears.Linear, input_dims=3, output_dims=self.model_dims))
    self.create_child('dropout', pax_fiddle.Config(
        stochastics.Dropout, keep_prob=self.keep_prob))

  def __call__(self, images):
    return self.dropout(jnp.tanh(self.proj(jnp.mean(images, axis=(1, 2)))))


def _classifier(num_classes, dims=8, keep_prob=1.0):
  p = classifier.classifier_config(
      pax_fiddle.Config(TinyEncoder, model_dims=dims, keep_prob=keep_prob),
      num_classes=num_classes, head_zero_init=False)
  p.shape_bias_metrics = False
  return p


def _batch(b=6, k=7, seed=0):
  rng = np.random.RandomState(seed)
  labels = rng.randint(0, k, size=b)
  return NestedMap(
      image=jnp.asarray(rng.randn(b, 4, 4, 3), jnp.float32),
      label=jnp.asarray(labels, jnp.int32),
      label_probs=jnp.asarray(np.eye(k)[labels], jnp.float32))


def var_names(model, *args):
  """'/'-joined variable paths as paxml sees them ('params/teacher/...')."""
  with base_layer.JaxContext.new_context():
    hparams = model.abstract_init_with_metadata(*args)
  leaves = jax.tree_util.tree_flatten_with_path(
      hparams, is_leaf=lambda x: isinstance(x, base_layer.WeightHParams))[0]
  return {'/'.join(k.key for k in path) for path, _ in leaves}


def _np_log_softmax(x):
  x = x - x.max(-1, keepdims=True)
  return x - np.log(np.exp(x).sum(-1, keepdims=True))


class DistillationModelTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    np.random.seed(123456)

  def _model(self, k_teacher=7, k_student=7, **kw):
    p = pax_fiddle.Config(
        distillation.DistillationModel, name='distill',
        teacher_tpl=_classifier(k_teacher, dims=12),
        student_tpl=_classifier(k_student, dims=8), **kw)
    return base_layer.instantiate(p)

  def _init(self, model, batch):
    with base_layer.JaxContext.new_context():
      return model.init(
          {PARAMS: jax.random.PRNGKey(1), RANDOM: jax.random.PRNGKey(2)},
          batch)

  @parameterized.named_parameters(
      ('t1_kd_only', 1.0, 0.0), ('t2_kd_only', 2.0, 0.0), ('t2_ce', 2.0, 0.5))
  def test_loss_matches_numpy(self, t, ce_weight):
    model = self._model(temperature=t, ce_weight=ce_weight)
    batch = _batch()
    variables = self._init(model, batch)
    with base_layer.JaxContext.new_context():
      metrics, out = model.apply(
          variables, batch, rngs={RANDOM: jax.random.PRNGKey(3)})
    s, tl = np.asarray(out.logits), np.asarray(out.teacher_logits)
    self.assertEqual(s.shape, (6, 7))
    self.assertEqual(tl.shape, (6, 7))
    p = np.exp(_np_log_softmax(tl / t))
    kd = np.mean(t**2 * np.sum(p * (np.log(p) - _np_log_softmax(s / t)), -1))
    ce = np.mean(-np.sum(np.asarray(batch.label_probs) * _np_log_softmax(s),
                         -1))
    self.assertAllClose(metrics.kd_loss[0], kd, atol=1e-5)
    self.assertAllClose(metrics.ce_loss[0], ce, atol=1e-5)
    self.assertAllClose(metrics.total_loss[0], kd + ce_weight * ce, atol=1e-5)
    self.assertAllClose(metrics.total_loss[1], 6.0)
    labels = np.asarray(batch.label)
    self.assertAllClose(metrics.accuracy[0], np.mean(s.argmax(-1) == labels))
    self.assertAllClose(metrics.teacher_accuracy[0],
                        np.mean(tl.argmax(-1) == labels))
    self.assertAllClose(metrics.agreement[0],
                        np.mean(s.argmax(-1) == tl.argmax(-1)))
    top5 = np.argsort(-s, -1)[:, :5]
    self.assertAllClose(metrics.acc5[0],
                        np.mean([l in r for l, r in zip(labels, top5)]))

  def test_teacher_gets_no_gradient(self):
    model = self._model(ce_weight=0.3)
    batch = _batch()
    variables = self._init(model, batch)

    def loss_fn(params):
      with base_layer.JaxContext.new_context():
        metrics, _ = model.apply({PARAMS: params}, batch)
      return metrics.total_loss[0]

    grads = jax.grad(loss_fn)(variables[PARAMS])
    for g in jax.tree_util.tree_leaves(grads['teacher']):
      self.assertArraysEqual(g, np.zeros_like(g))
    student_norm = sum(float(jnp.sum(g * g))
                       for g in jax.tree_util.tree_leaves(grads['student']))
    self.assertGreater(student_norm, 0.0)
    # The loading rule 'params/teacher/(.*)' -> 'params/{}' needs this layout.
    self.assertEqual(set(variables[PARAMS]), {'teacher', 'student'})
    self.assertEqual(set(variables[PARAMS]['teacher']), {'network', 'softmax'})

  def test_exclusion_and_load_rule(self):
    model = self._model()
    names = var_names(model, _batch())
    excluded = {n for n in names
                if re.fullmatch(distillation.TEACHER_EXCLUSION, n)}
    self.assertEqual(excluded, {n for n in names if '/teacher/' in n})
    self.assertNotEmpty(excluded)
    # Every teacher variable maps onto the stand-alone classifier's variable.
    pattern, fmt = distillation.TEACHER_LOAD_RULE
    mapped = {fmt.format(*re.match(pattern, n).groups()) for n in excluded}
    teacher = base_layer.instantiate(_classifier(7, dims=12).set(name='cls'))
    self.assertEqual(mapped, var_names(teacher, _batch()))

  def test_teacher_runs_in_eval_mode(self):
    p = pax_fiddle.Config(
        distillation.DistillationModel, name='distill',
        teacher_tpl=_classifier(7, keep_prob=0.5),
        student_tpl=_classifier(7, keep_prob=0.5))
    model = base_layer.instantiate(p)
    batch = _batch()
    variables = self._init(model, batch)
    outs = []
    for seed in (3, 4):
      with base_layer.JaxContext.new_context(
          hparams=base_layer.JaxContext.HParams(do_eval=False)):
        outs.append(model.apply(
            variables, batch, rngs={RANDOM: jax.random.PRNGKey(seed)})[1])
    self.assertArraysEqual(outs[0].teacher_logits, outs[1].teacher_logits)
    self.assertNotAllClose(outs[0].logits, outs[1].logits)

  def test_no_acc5_for_few_classes(self):
    model = self._model(k_teacher=4, k_student=4)
    batch = _batch(k=4)
    variables = self._init(model, batch)
    with base_layer.JaxContext.new_context():
      metrics, _ = model.apply(variables, batch)
    self.assertNotIn('acc5', metrics)
    self.assertContainsSubset(
        {'total_loss', 'kd_loss', 'ce_loss', 'accuracy', 'teacher_accuracy',
         'agreement'}, set(metrics))

  def test_class_mismatch_raises(self):
    model = self._model(k_teacher=7, k_student=5)
    with self.assertRaisesRegex(ValueError, 'teacher has 7 classes but student '
                                'has 5'):
      self._init(model, _batch())

  @parameterized.named_parameters(
      ('temperature', dict(temperature=0.0), 'temperature must be > 0, got 0'),
      ('ce_weight', dict(ce_weight=-1.0), 'ce_weight must be >= 0, got -1'))
  def test_bad_hparams_raise(self, kw, regex):
    with self.assertRaisesRegex(ValueError, regex):
      self._init(self._model(**kw), _batch())


if __name__ == '__main__':
  absltest.main()
