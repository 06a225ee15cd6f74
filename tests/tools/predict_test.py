# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""tools/predict on an imported checkpoint: big_vision's own top-k."""

import contextlib
import io
import json
import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image

from tests.weights import import_util as iu
from tests.weights import reference as ref
from vit22b_pax.tools import predict

_STATE = {}
K = 8


def setUpModule():
  params = ref.big_vision_params(
      np.random.default_rng(4), width=iu.WIDTH, depth=iu.DEPTH, mlp=iu.MLP,
      heads=iu.HEADS, patch=iu.PATCH, grid=2, classes=K, pooling='tok')
  root = tempfile.mkdtemp()
  path = os.path.join(root, 'src.npz')
  np.savez(path, **params)
  rc, out, err, job = iu.run_import('--format', 'big_vision', '--src', path)
  assert rc == 0, err
  rng = np.random.default_rng(5)
  images = []
  for i, (shape, kind) in enumerate((((40, 30, 3), 'png'),
                                     ((20, 20), 'png'),
                                     ((33, 50, 3), 'jpg'))):
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    images.append(os.path.join(root, f'img{i}.{kind}'))
    Image.fromarray(pixels).save(images[-1])
  labels = os.path.join(root, 'labels.txt')
  with open(labels, 'w') as f:
    f.write('\n'.join(f'class {c}' for c in range(K)) + '\n')
  exp = json.load(open(os.path.join(job, 'import.json')))['commands'][
      'experiment']
  _STATE.update(params=params, job=job, images=images, labels=labels,
                exp=exp, root=root)


def _run(*args):
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    rc = predict.main(list(args))
  return rc, out.getvalue(), err.getvalue()


class PredictTest(absltest.TestCase):

  def test_top_k_is_big_visions(self):
    json_path = os.path.join(_STATE['root'], 'pred.json')
    rc, out, err = _run('--exp', _STATE['exp'], '--job_log_dir',
                        _STATE['job'], '--labels', _STATE['labels'],
                        '--top_k', '3', '--json', json_path,
                        *_STATE['images'])
    self.assertEqual(rc, 0, err)
    self.assertIn('restored step 0', out)
    self.assertIn('(8 classes, 16 px, softmax)', out)
    result = json.load(open(json_path))['results']
    self.assertEqual([r['image'] for r in result], _STATE['images'])
    # big_vision's forward on the same evaluation crops.
    crops = predict.load_images(_STATE['images'], 16, 0.875)
    logits = ref.big_vision_forward(_STATE['params'], crops, depth=iu.DEPTH,
                                    pooling='tok')
    probs = ref.softmax(logits)
    for r, p in zip(result, probs):
      want = np.argsort(-p)[:3]
      self.assertEqual([e['class'] for e in r['top_k']], list(want))
      self.assertEqual([e['label'] for e in r['top_k']],
                       [f'class {c}' for c in want])
      np.testing.assert_allclose([e['prob'] for e in r['top_k']], p[want],
                                 rtol=1e-4)
      self.assertIn(f'  1. class {want[0]}  {p[want[0]]:.4f}', out)

  def test_eval_crop_is_the_central_square(self):
    # A 2:1 image whose left and right quarters are black: the central
    # square (crop_fraction 1) sees only the white middle.
    img = np.zeros((16, 32, 3), np.uint8)
    img[:, 8:24] = 255
    path = os.path.join(_STATE['root'], 'wide.png')
    Image.fromarray(img).save(path)
    crop = predict.load_images([path], 16, 1.0)
    np.testing.assert_allclose(crop, 1.0)

  def test_errors(self):
    base = ['--exp', _STATE['exp'], '--job_log_dir', _STATE['job']]
    bad_labels = os.path.join(_STATE['root'], 'bad.txt')
    with open(bad_labels, 'w') as f:
      f.write('a\nb\n')
    rc, _, err = _run(*base, '--labels', bad_labels, _STATE['images'][0])
    self.assertEqual(rc, 2)
    self.assertIn('has 2 class names but the model has 8', err)
    rc, _, err = _run(*base, os.path.join(_STATE['root'], 'nope.png'))
    self.assertEqual(rc, 2)
    self.assertIn('No image at', err)
    rc, _, err = _run(*base, _STATE['labels'])
    self.assertEqual(rc, 2)
    self.assertIn('labels.txt\' is not a readable image', err)


if __name__ == '__main__':
  absltest.main()
