# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Video classification end to end: warm start from a real pretraining run,
frozen encoder, trained head."""

import os
import tempfile

from absl.testing import absltest
import numpy as np

from fiddle_configs import pretrain
from fiddle_configs import video
from tests.experiments import pax_run
from vit22b_pax.runtime import checkpoints
from vit22b_pax.tools import runs


class VideoRunTest(absltest.TestCase):

  def test_encoder_frozen_bit_for_bit_and_head_trained(self):
    tmp = tempfile.mkdtemp(prefix='vit22b_video_')
    source = os.path.join(tmp, 'pretrain')
    pax_run.run_pax([
        f'--fdl=config:{runs.recipe_call(pretrain.pretrain, size="smoke")}',
        f'--job_log_dir={source}'], module='vit22b_pax.main')
    job = os.path.join(tmp, 'video')
    call = runs.recipe_call(video.video, size='smoke', pretrain_dir=source)
    log = pax_run.run_pax([f'--fdl=config:{call}', f'--job_log_dir={job}'],
                          module='vit22b_pax.main').stdout
    ckpt = checkpoints.resolve(job)
    self.assertEqual(ckpt.step, 4)
    stored = checkpoints.variables(ckpt)
    names = [n for n in stored if n.startswith('params/network/')]
    self.assertGreater(len(names), 5)
    src = checkpoints.resolve(source)
    for name in names:
      np.testing.assert_array_equal(checkpoints.read_variable(ckpt, name),
                                    checkpoints.read_variable(src, name),
                                    err_msg=name)
    self.assertTrue(any(n.startswith('params/temporal_head/')
                        for n in stored))
    head = checkpoints.read_variable(ckpt,
                                     'params/softmax/logits_ffn/linear/w')
    self.assertGreater(np.abs(head).max(), 0.0)  # Zero-initialised.
    for metric in ('accuracy', 'shape_accuracy', 'motion_accuracy'):
      values = pax_run.scalars(job, 'eval_test_test', f'Metrics/{metric}')
      self.assertIn(4, values)
      self.assertBetween(values[4], 0.0, 1.0)
    self.assertIn('[eval test] step      4', log)


if __name__ == '__main__':
  absltest.main()
