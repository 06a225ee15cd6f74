# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tests for ViT22BClassifier: example weights, per-example outputs and
multi-label metrics, up to paxml's eval program on a real image folder."""

import os
import tempfile

from absl import flags
from absl.testing import absltest
from absl.testing import parameterized
from etils import epath
import jax
import jax.numpy as jnp
import numpy as np
from paxml import partitioning
from paxml import programs
from paxml import tasks_lib
from PIL import Image
from praxis import base_hyperparams
from praxis import base_layer
from praxis import optimizers
from praxis import pax_fiddle
from praxis import py_utils
from praxis import schedules
from praxis import test_utils

from vit22b_pax.data import inputs
from vit22b_pax.data import real
from vit22b_pax.data import tfdata
from vit22b_pax.models import classifier
from vit22b_pax.runtime import eval_program
from vit22b_pax.tools import runs

NestedMap = py_utils.NestedMap
instantiate = base_hyperparams.instantiate


class MeanColour(base_layer.BaseLayer):
  """Parameter-free stand-in encoder: mean colour per image, [B, 3].

  Attributes:
    model_dims: feature width (3: R, G, B).
  """
  model_dims: int = 3

  def __call__(self, images):
    return jnp.mean(images, axis=(1, 2))


def _model_p(num_classes=2, **kw):
  p = classifier.classifier_config(pax_fiddle.Config(MeanColour),
                                   num_classes=num_classes, **kw)
  p.shape_bias_metrics = False
  return p


def _run(model_p, batch, params=None):
  """(metrics, per_example_out) of one forward pass."""
  model = instantiate(model_p)
  with base_layer.JaxContext.new_context():
    variables = model.init(jax.random.PRNGKey(0), batch)
    if params is not None:
      variables = {**variables, 'params': params}
    return model.apply(variables, batch)


# Head kernel [3, 2]: logits = (mean red, mean blue) of an image in [-1, 1].
_RED_BLUE = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]], np.float32)


class ClassifierTest(test_utils.TestCase):

  def test_weights_reach_loss_metrics_and_outputs(self):
    rng = np.random.default_rng(0)
    k = 7
    batch = NestedMap(
        image=jnp.asarray(rng.normal(size=(5, 4, 4, 3)), jnp.float32),
        label=jnp.asarray([0, 1, 2, 3, 4], jnp.int32),
        eval_sample_weights=jnp.asarray([1, 1, 0, 1, 0], jnp.float32))
    batch.label_probs = jax.nn.one_hot(batch.label, k)
    model_p = _model_p(k, head_zero_init=False)
    metrics, out = _run(model_p, batch)
    logits = np.asarray(out['scores'])
    w = np.asarray(batch.eval_sample_weights)
    xent = -np.sum(np.asarray(batch.label_probs) * jax.nn.log_softmax(
        logits), -1)
    self.assertAllClose(metrics.avg_xent[0], np.sum(xent * w) / w.sum(),
                        atol=1e-5)
    self.assertEqual(float(metrics.total_loss[1]), 3.0)
    acc = np.sum((logits.argmax(-1) == np.arange(5)) * w) / w.sum()
    self.assertAllClose(metrics.accuracy[0], acc)
    self.assertEqual(float(metrics.accuracy[1]), 3.0)
    self.assertIn('acc5', metrics)
    # Per-example outputs: praxis' scores / labels plus weights, no copy of
    # the logits.
    self.assertEqual(sorted(out.keys()), ['labels', 'scores', 'weights'])
    self.assertArraysEqual(out['weights'], w)

  def test_multi_label_metrics(self):
    rng = np.random.default_rng(1)
    k = 6
    khot = (rng.random((8, k)) < 0.4).astype(np.float32)
    batch = NestedMap(
        image=jnp.asarray(rng.normal(size=(8, 4, 4, 3)), jnp.float32),
        label=jnp.asarray(np.where(khot.any(1), khot.argmax(1), -1),
                          jnp.int32),
        label_probs=jnp.asarray(khot),
        eval_sample_weights=jnp.asarray([1, 1, 1, 1, 1, 1, 0, 0],
                                        jnp.float32))
    model_p = _model_p(k, loss='sigmoid', head_zero_init=False,
                       multi_label=True)
    metrics, out = _run(model_p, batch)
    for key in ('accuracy', 'acc5', 'error'):
      self.assertNotIn(key, metrics)
    s = np.asarray(out['scores'])[:6]
    y = khot[:6]
    p1 = np.mean([y[i, s[i].argmax()] for i in range(6)])
    self.assertAllClose(metrics.precision_at_1[0], p1)
    aps = [np.mean([np.sum(s[i, y[i] > 0] >= s[i, j]) / np.sum(s[i] >= s[i, j])
                    for j in np.flatnonzero(y[i])])
           for i in range(6) if y[i].any()]
    self.assertAllClose(metrics.example_map[0], np.mean(aps), atol=1e-6)
    self.assertEqual(float(metrics.example_map[1]), len(aps))
    # Sigmoid loss over the k-hot targets, weight-0 rows left out.
    z = np.asarray(out['scores'])
    xent = np.sum(np.maximum(z, 0) - z * khot + np.log1p(np.exp(-np.abs(z))),
                  -1)
    self.assertAllClose(metrics.avg_xent[0], xent[:6].mean(), atol=1e-5)

  def test_multi_label_needs_sigmoid(self):
    with self.assertRaisesRegex(ValueError, "multi_label=True needs "
                                "loss='sigmoid'"):
      _model_p(4, multi_label=True)


class ShapeBiasTest(test_utils.TestCase):
  """shape_bias_metrics against counts by hand, and a split with no
  conflicting image."""

  def test_counts_by_hand(self):
    # 6 images: shape label, texture label (-1: no cue), predicted class.
    labels = np.array([0, 1, 2, 3, 0, 1])
    textures = np.array([1, 1, 0, 2, -1, 3])   # image 1: agreeing texture
    pred = np.array([0, 1, 0, 2, 0, 2])
    weights = np.array([1, 1, 1, 1, 1, 0], np.float32)  # image 5: padding
    logits = jax.nn.one_hot(pred, 4)
    m = classifier.shape_bias_metrics(logits, jnp.asarray(labels),
                                      jnp.asarray(textures),
                                      jnp.asarray(weights))
    # Conflicting, weighted images: 0 (shape hit), 2 (texture hit),
    # 3 (texture hit). Image 1 agrees, 4 has no texture, 5 is padding.
    self.assertAllClose(m.shape_bias, (1 / 3, 3.0))
    self.assertAllClose(m.shape_accuracy, (1 / 3, 3.0))
    self.assertAllClose(m.texture_accuracy, (2 / 3, 3.0))

  def test_no_conflicting_image_has_weight_zero(self):
    labels = jnp.asarray([0, 1, 2])
    logits = jax.nn.one_hot(jnp.asarray([0, 2, 2]), 3)
    for textures in ([0, 1, 2], [-1, -1, -1]):  # agreeing; no cue at all
      m = classifier.shape_bias_metrics(logits, labels, jnp.asarray(textures),
                                        jnp.ones([3], jnp.float32))
      for key in ('shape_bias', 'shape_accuracy', 'texture_accuracy'):
        value, weight = (float(x) for x in m[key])
        self.assertEqual(weight, 0.0, key)
        self.assertTrue(np.isfinite(value), key)

  def test_only_in_eval(self):
    batch = NestedMap(
        image=jnp.ones((2, 4, 4, 3), jnp.float32),
        label=jnp.asarray([0, 1], jnp.int32),
        texture_label=jnp.asarray([1, 0], jnp.int32))
    batch.label_probs = jax.nn.one_hot(batch.label, 2)
    model_p = _model_p(2)
    model_p.shape_bias_metrics = True
    model = instantiate(model_p)
    for do_eval in (False, True):
      with base_layer.JaxContext.new_context(
          hparams=base_layer.JaxContext.HParams(do_eval=do_eval)):
        variables = model.init(jax.random.PRNGKey(0), batch)
        metrics, _ = model.apply(variables, batch)
      self.assertEqual('shape_bias' in metrics, do_eval)


class EvalProgramTest(test_utils.TestCase, parameterized.TestCase):
  """paxml's eval program over an image folder with a corrupt file."""

  def setUp(self):
    super().setUp()
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    self.root = tmp.name
    red, blue = (255, 0, 0), (0, 0, 255)
    # test: cat = 2 red + 1 blue (misclassified), dog = 2 blue + 1 corrupt.
    files = {'cat/0.png': red, 'cat/1.png': red, 'cat/2.png': blue,
             'dog/0.png': blue, 'dog/1.png': blue}
    for split in ('train', 'test'):
      for name, rgb in files.items():
        path = os.path.join(self.root, split, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.fromarray(np.full((10, 12, 3), rgb, np.uint8)).save(path)
    with open(os.path.join(self.root, 'test', 'dog', 'zz.png'), 'wb') as f:
      f.write(b'\x89PNG\r\n\x1a\n broken')

  def _evaluate(self, input_cls, program_cls=programs.SingleTaskEvalProgram,
                shape_bias=False, job_dir=None):
    """Runs `program_cls` over the test folder; returns its output."""
    if not flags.FLAGS.is_parsed():  # paxml reads flags; pytest never parses.
      flags.FLAGS.mark_as_parsed()
    n = jax.device_count()  # 8 fake CPU devices (tests/conftest.py).
    mesh = jax.sharding.Mesh(np.array(jax.devices()), ('data',))
    task_p = pax_fiddle.Config(tasks_lib.SingleTask, name='t')
    task_p.model = _model_p(2)
    task_p.model.shape_bias_metrics = shape_bias
    task_p.model.ici_mesh_shape = [n]
    task_p.model.mesh_axis_names = mesh.axis_names
    learner = task_p.train.learner
    learner.loss_name = 'total_loss'
    learner.optimizer = pax_fiddle.Config(
        optimizers.Adam, learning_rate=0.0,
        lr_schedule=pax_fiddle.Config(schedules.Constant))
    task = instantiate(task_p)
    # 6 files (one corrupt) in batches of 4: 2 padding rows.
    eval_p = pax_fiddle.Config(
        input_cls, name='test', root=self.root, split='test', batch_size=4,
        image_size=8, reset_for_eval=True, eval_loop_num_batches=-1)
    specs = instantiate(pax_fiddle.Config(
        inputs.ImageInputSpecsProvider, image_size=8, num_classes=2,
        batch_size=4)).get_input_specs()
    partitioner = partitioning.PjitPartitioner(
        init_is_eval=True, reshard_inputs=True, task=task)
    key = jax.random.PRNGKey(0)
    partitioner.setup(task, key, specs)
    _, state, _ = partitioner.initialize_prng_key_and_train_state(
        key, None, None, discard_opt_states=True)
    params = jax.tree_util.tree_map(np.asarray, state.mdl_vars)
    params['params']['softmax']['logits_ffn']['linear']['w'] = _RED_BLUE
    state = state.replace(mdl_vars=params)
    program = program_cls(eval_p)
    program.setup(task, partitioner, epath.Path(job_dir or self.root), key,
                  enable_summary_writer=job_dir is not None)
    with self.assertLogs(level='WARNING'):
      out = program.run(state, 0)
    program.shutdown()
    return out

  @parameterized.parameters(real.ImageFolderInput,
                            tfdata.TfDataImageFolderInput)
  def test_padding_and_corrupt_images_weigh_zero(self, input_cls):
    out = self._evaluate(input_cls)
    self.assertEqual(out.num_eval_steps, 2)
    m = out.eval_metrics
    # By hand, over the 5 readable images: red -> logits (1, -1) -> cat,
    # blue -> (-1, 1) -> dog. cat/2 (blue) is the one error: 4 / 5.
    # Counting the corrupt file (black: a tie, argmax cat, label dog) and
    # the 2 padding rows (repeats of cat/0, cat/1) would give 6 / 8.
    self.assertAllClose(m['accuracy'], 0.8)
    right, wrong = np.log1p(np.exp(-2.0)), np.log1p(np.exp(2.0))
    self.assertAllClose(m['avg_xent'], (4 * right + wrong) / 5, atol=1e-5)
    self.assertAllClose(m['total_loss'], (4 * right + wrong) / 5, atol=1e-5)
    # num_predictions is the summed weight per batch, averaged: (4 + 1) / 2.
    self.assertAllClose(m['num_predictions'] * out.num_eval_steps, 5.0)

  def test_metric_of_weight_zero_is_left_out(self):
    # Real images carry texture_label -1: shape bias has no cue hit at all.
    plain = self._evaluate(real.ImageFolderInput, shape_bias=True)
    self.assertTrue(np.isnan(plain.eval_metrics['shape_bias']))  # paxml: 0/0
    job = tempfile.mkdtemp()
    out = self._evaluate(real.ImageFolderInput, eval_program.ViT22BEvalProgram,
                         shape_bias=True, job_dir=job)
    for key in ('shape_bias', 'shape_accuracy', 'texture_accuracy'):
      self.assertNotIn(key, out.eval_metrics)
    self.assertAllClose(out.eval_metrics['accuracy'], 0.8)
    written = runs.read_all(job, 'eval_test_test')
    self.assertIn('Metrics/accuracy', written)
    self.assertFalse([tag for tag in written if 'shape' in tag], written)


if __name__ == '__main__':
  absltest.main()
