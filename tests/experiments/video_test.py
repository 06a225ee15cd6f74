# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Video experiments end to end: warm start, frozen encoder, baselines."""

import os
import tempfile

from absl.testing import absltest
import numpy as np

from tests.experiments import pax_run
from vit22b_pax.experiments import checkpoints
from vit22b_pax.experiments import video

_PRETRAIN = 'vit22b_pax.experiments.pretrain.ProceduralViT22BSmoke'
_STATE = {}


def setUpModule():
  tmp = tempfile.mkdtemp(prefix='vit22b_video_')
  _STATE['tmp'] = tmp
  _STATE['pretrain'] = os.path.join(tmp, 'pretrain')
  pax_run.run_pax([f'--exp={_PRETRAIN}',
                   f'--job_log_dir={_STATE["pretrain"]}'],
                  module='vit22b_pax.main')


def _exp(cls=video.ProceduralVideoSmoke, **constants):
  return type(cls.__name__, (cls,), constants)()


class VideoRunTest(absltest.TestCase):

  def test_encoder_frozen_bit_for_bit_and_head_trained(self):
    job = os.path.join(_STATE['tmp'], 'video')
    log = pax_run.run_pax([
        '--fdl_config=vit22b_pax.experiments.video.ProceduralVideoSmoke',
        f'--fdl.PRETRAIN_DIR="{_STATE["pretrain"]}"',
        f'--job_log_dir={job}'], module='vit22b_pax.main').stdout
    self.assertEqual(pax_run.checkpoint_steps(job)[-1], 4)
    stored = checkpoints.stored_shapes(checkpoints.checkpoint_dir(job), 4)
    names = [n for n in stored if n.startswith('params/network/')]
    self.assertGreater(len(names), 5)
    for name in names:
      np.testing.assert_array_equal(
          checkpoints.read_variable(job, name),
          checkpoints.read_variable(_STATE['pretrain'], name), err_msg=name)
    self.assertTrue(any(n.startswith('params/temporal_head/')
                        for n in stored))
    head = checkpoints.read_variable(job, 'params/softmax/logits_ffn/linear/w')
    self.assertGreater(np.abs(head).max(), 0.0)  # Zero-initialised.
    for metric in ('accuracy', 'shape_accuracy', 'motion_accuracy'):
      values = pax_run.scalars(job, 'eval_test_test', f'Metrics/{metric}')
      self.assertIn(4, values)
      self.assertBetween(values[4], 0.0, 1.0)
    self.assertIn('[eval test] step', log)


class VideoConfigTest(absltest.TestCase):

  def test_baseline_switches(self):
    middle = _exp(FRAMES='middle').task().model
    self.assertEqual(middle.frames, 'middle')
    random = _exp(ENCODER_INIT='random', PRETRAIN_DIR=None)
    random.validate()  # No source checkpoint needed.
    self.assertFalse(random.task().train.init_from_checkpoint_rules)
    warm = _exp(PRETRAIN_DIR=_STATE['pretrain'])
    warm.validate()
    self.assertLen(warm.task().train.init_from_checkpoint_rules, 1)
    transformer = _exp(HEAD='transformer', TEMPORAL_LAYERS=2).task().model
    self.assertEqual(transformer.temporal_head_tpl.num_layers, 2)

  def test_bad_switches(self):
    with self.assertRaisesRegex(ValueError, "ENCODER_INIT='scratch'"):
      _exp(ENCODER_INIT='scratch').task()
    with self.assertRaisesRegex(ValueError, "Unknown frames='first'"):
      _exp(FRAMES='first').task()
    with self.assertRaisesRegex(ValueError, '2 VIDEO_SHAPES x 2 MOTIONS make 4'):
      _exp(NUM_CLASSES=5).datasets()
    with self.assertRaisesRegex(ValueError, 'PRETRAIN_DIR'):
      _exp(PRETRAIN_DIR=None).validate()
    with self.assertRaisesRegex(ValueError, "'frames' needs DATA_DIR"):
      _exp(VIDEO_SOURCE='frames').datasets()


if __name__ == '__main__':
  absltest.main()
