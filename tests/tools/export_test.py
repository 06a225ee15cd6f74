# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""tools/export: the SavedModel's probabilities equal JAX's."""

import json
import os
import tempfile

from absl.testing import absltest
import jax
import numpy as np
import tensorflow as tf

from tests.weights import import_util as iu
from tests.weights import reference as ref
from vit22b_pax.runtime import restore
from vit22b_pax.tools import export
from vit22b_pax.weights import classifier_fn

_STATE = {}


def setUpModule():
  params = ref.timm_params(
      np.random.default_rng(6), width=iu.WIDTH, depth=iu.DEPTH, mlp=iu.MLP,
      heads=iu.HEADS, patch=iu.PATCH, grid=2, classes=7, pooling='map')
  root = tempfile.mkdtemp()
  path = os.path.join(root, 'model.safetensors')
  ref.write_safetensors(path, params)
  rc, _, err, job = iu.run_import('--format', 'timm', '--src', path,
                                  '--normalization', 'imagenet',
                                  '--loss', 'sigmoid')
  assert rc == 0, err
  exp = json.load(open(os.path.join(job, 'import.json')))['commands'][
      'experiment']
  _STATE.update(job=job, exp=exp, root=root)


class ExportTest(absltest.TestCase):

  def test_saved_model_equals_jax(self):
    out = os.path.join(_STATE['root'], 'saved_model')
    rc = export.main(['--exp', _STATE['exp'], '--job_log_dir', _STATE['job'],
                      '--out', out])
    self.assertEqual(rc, 0)
    facts = json.load(open(os.path.join(out, 'export.json')))
    self.assertEqual((facts['image_size'], facts['num_classes'],
                      facts['head']), (16, 7, 'sigmoid'))
    serve = tf.saved_model.load(out).signatures['serving_default']
    spec = serve.structured_input_signature[1]['images']
    self.assertEqual((spec.dtype, spec.shape.as_list()),
                     (tf.uint8, [None, 16, 16, 3]))
    fn = classifier_fn.load(_STATE['exp'], _STATE['job'])
    predict_fn, _ = restore.restore_predict_fn(_STATE['exp'], _STATE['job'])
    rng = np.random.default_rng(0)
    for batch in (3, 1, 5):  # One SavedModel, any batch size.
      images = rng.integers(0, 256, (batch, 16, 16, 3), dtype=np.uint8)
      got = serve(images=tf.constant(images))['probabilities'].numpy()
      x = images.astype(np.float32) / 127.5 - 1.0
      want = np.asarray(jax.jit(fn.probs)(fn.variables, x))
      self.assertEqual(got.shape, (batch, 7))
      np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
      # The project's own restore path gives the same probabilities.
      np.testing.assert_allclose(got, predict_fn(x), atol=1e-5, rtol=0)
      self.assertGreater(np.std(got), 1e-3)

  def test_errors(self):
    full = tempfile.mkdtemp()
    open(os.path.join(full, 'x'), 'w').close()
    with self.assertRaisesRegex(ValueError, 'exists and is not empty'):
      export.export_saved_model(_STATE['exp'], _STATE['job'], full)
    with self.assertRaisesRegex(ValueError, r"Unknown platforms \['gpu'\]"):
      export.export_saved_model(_STATE['exp'], _STATE['job'],
                                os.path.join(full, 'y'), platforms=['gpu'])
    with self.assertRaisesRegex(ValueError, 'No checkpoint found'):
      export.export_saved_model(_STATE['exp'], tempfile.mkdtemp(),
                                os.path.join(full, 'z'))


if __name__ == '__main__':
  absltest.main()
