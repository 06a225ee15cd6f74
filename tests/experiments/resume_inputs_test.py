# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Exact resume end to end for your own images: the tf.data ImageFolder input
(the default decoder; its restored state rebuilds the pipeline at the saved
position) with random crops and flips, killed with `kill -9` after step 4
(checkpoint 3 saved) and rerun: the final checkpoint must be bit-identical to
an uninterrupted run's. The procedural input has the same test in
reliability_test.py."""

import os
import signal
import tempfile

from absl.testing import absltest
import numpy as np
from PIL import Image

from fiddle_configs import pretrain
from tests.experiments import pax_run
from tests.experiments import pausing
from vit22b_pax.runtime import checkpoints
from vit22b_pax.tools import runs

_STATE = {}


def _images(root):
  """train/{a,b}/ 10 images each, test/{a,b}/ 3 each, varied sizes."""
  rng = np.random.default_rng(0)
  for split, n in (('train', 10), ('test', 3)):
    for c, name in enumerate(('a', 'b')):
      os.makedirs(os.path.join(root, split, name))
      for i in range(n):
        h, w = 20 + 3 * i, 24 + 2 * c
        img = (rng.uniform(0, 255, (h, w, 3)) * (0.5 + 0.5 * c)).astype(
            np.uint8)
        Image.fromarray(img).save(os.path.join(root, split, name,
                                               f'{i}.png'))


def _args(job, recipe, **kwargs):
  call = runs.recipe_call(recipe, size='smoke', data='image_folder',
                          data_dir=_STATE['data'], num_classes=2,
                          augment=True, **kwargs)
  return [f'--fdl=config:{call}', f'--job_log_dir={job}']


def setUpModule():
  tmp = tempfile.mkdtemp(prefix='vit22b_resume_inputs_')
  _STATE['data'] = os.path.join(tmp, 'images')
  _images(_STATE['data'])
  _STATE['ref'] = os.path.join(tmp, 'reference')
  _STATE['job'] = os.path.join(tmp, 'killed')
  # The killed run starts next to the reference (both mostly compile).
  run = pausing.Running(_args(_STATE['job'], pausing.paused, pause_at=4))
  try:
    pax_run.run_pax(_args(_STATE['ref'], pretrain.pretrain),
                    module='vit22b_pax.main')
    run.wait_for(f'{pausing.MARKER} 4')
    _STATE['steps_at_kill'] = checkpoints.steps(_STATE['job'])
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
  finally:
    run.kill()
  _STATE['log'] = pax_run.run_pax(_args(_STATE['job'], pretrain.pretrain),
                                  module='vit22b_pax.main').stdout


class ImageFolderResumeTest(absltest.TestCase):

  def test_killed_run_resumes_bit_identical(self):
    self.assertEqual(_STATE['steps_at_kill'], [0, 3])
    with open(os.path.join(_STATE['job'], 'logs', 'pax.log')) as f:
      self.assertIn('Model initial global_step=3', f.read())
    want = checkpoints.resolve(_STATE['ref'])
    got = checkpoints.resolve(_STATE['job'])
    self.assertEqual((got.step, want.step), (6, 6))
    names = checkpoints.stored_arrays(want)
    self.assertEqual(checkpoints.stored_arrays(got), names)
    for name in names:
      np.testing.assert_array_equal(checkpoints.read_array(got, name),
                                    checkpoints.read_array(want, name),
                                    err_msg=name)
    for path in (want.path / 'train_input').iterdir():
      self.assertEqual((got.path / 'train_input' / path.name).read_bytes(),
                       path.read_bytes())


if __name__ == '__main__':
  absltest.main()
