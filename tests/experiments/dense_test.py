# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Dense experiments end to end through `python -m vit22b_pax.main`: a smoke
pretraining run, then segmentation / depth on its frozen or trained encoder
and on a random one, pooled metrics in TensorBoard, and the pictures tool."""

import os
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image

from fiddle_configs import dense
from fiddle_configs import pretrain
from tests.experiments import pax_run
from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import experiment
from vit22b_pax.tools import dense_pictures
from vit22b_pax.tools import runs

_STATE = {}


def setUpModule():
  tmp = tempfile.mkdtemp(prefix='vit22b_dense_')
  _STATE['tmp'] = tmp
  _STATE['pretrain'] = os.path.join(tmp, 'pretrain')
  pax_run.run_pax([
      f'--fdl=config:{runs.recipe_call(pretrain.pretrain, size="smoke")}',
      f'--job_log_dir={_STATE["pretrain"]}'], module='vit22b_pax.main')


def _read(job, name, step=None):
  return checkpoints.read_variable(checkpoints.resolve(job, step), name)


def _run(recipe, name, **kwargs):
  job = os.path.join(_STATE['tmp'], name)
  call = runs.recipe_call(recipe, size='smoke', **kwargs)
  out = pax_run.run_pax([f'--fdl=config:{call}', f'--job_log_dir={job}'],
                        module='vit22b_pax.main').stdout
  return job, call, out


class DenseWorkflowTest(absltest.TestCase):

  def _network_names(self, job):
    names = [n for n in checkpoints.variables(checkpoints.resolve(job))
             if n.startswith('params/network/')]
    self.assertGreater(len(names), 5)
    return names

  def test_frozen_pretrained_segmentation(self):
    job, _, out = _run(dense.segmentation, 'seg',
                       pretrain_dir=_STATE['pretrain'],
                       decoder='progressive')
    self.assertIn('[eval test] step      4', out)
    self.assertEqual(checkpoints.resolve(job).step, 4)
    for name in self._network_names(job):  # Bit for bit the source.
      np.testing.assert_array_equal(_read(job, name),
                                    _read(_STATE['pretrain'], name),
                                    err_msg=name)
    head = 'params/decoder/head/linear/w'
    self.assertFalse(np.array_equal(_read(job, head, 0), _read(job, head)))
    for metric in ('miou', 'pixel_accuracy', 'mean_accuracy'):
      values = pax_run.scalars(job, 'eval_test_test', f'Metrics/{metric}')
      self.assertEqual(sorted(values), [2, 4])
      self.assertTrue(all(0.0 <= v <= 1.0 for v in values.values()), metric)

  def test_trained_backbone_changes(self):
    job, _, _ = _run(dense.segmentation, 'seg_trained',
                     pretrain_dir=_STATE['pretrain'], backbone='trained')
    changed = [n for n in self._network_names(job)
               if not np.array_equal(_read(job, n),
                                     _read(_STATE['pretrain'], n))]
    self.assertIn('params/network/patch_w', changed)

  def test_random_depth_and_pictures(self):
    job, call, _ = _run(dense.depth, 'depth', backbone='random')
    for metric in ('rmse', 'abs_rel', 'log10', 'delta1', 'delta2',
                   'delta3'):
      values = pax_run.scalars(job, 'eval_test_test', f'Metrics/{metric}')
      self.assertIn(4, values, metric)
      self.assertTrue(np.isfinite(values[4]), metric)
    d1, d2, d3 = (pax_run.scalars(job, 'eval_test_test', f'Metrics/{m}')[4]
                  for m in ('delta1', 'delta2', 'delta3'))
    self.assertTrue(0.0 <= d1 <= d2 <= d3 <= 1.0)
    out = os.path.join(_STATE['tmp'], 'depth.png')
    info = dense_pictures.dense_pictures(call, job, out, num_images=2)
    self.assertEqual((info['task'], info['step']), ('depth', 4))
    with Image.open(out) as img:
      self.assertGreater(img.size[0], 200)
      rgb = np.asarray(img.convert('RGB'))
    self.assertGreater(len(np.unique(rgb.reshape(-1, 3), axis=0)), 20)

  def test_missing_source_is_explained(self):
    exp = experiment.resolve(runs.recipe_call(dense.segmentation,
                                              size='smoke'))
    with self.assertRaisesRegex(ValueError, 'pretrain_dir'):
      exp.validate()


if __name__ == '__main__':
  absltest.main()
