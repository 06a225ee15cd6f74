# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The video recipe: sizes, heads, baselines, data kinds, bad arguments."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
from PIL import Image
from praxis import pax_fiddle

from fiddle_configs import pretrain
from fiddle_configs import video
from vit22b_pax.data import video as video_data
from vit22b_pax.data import video_real
from vit22b_pax.layers import temporal
from vit22b_pax.runtime import warm_start


class VideoRecipeTest(parameterized.TestCase):

  def test_tiny(self):
    cfg = video.video('tiny')
    model = cfg.task.model
    src = pretrain.pretrain('tiny')
    # The source's encoder, unchanged.
    self.assertEqual(model.network_tpl, src.task.model.network_tpl)
    self.assertIs(model.temporal_head_tpl.cls, temporal.TemporalMAPHead)
    self.assertEqual((model.num_frames, model.frames, model.num_motions,
                      model.softmax_tpl.num_classes), (8, 'all', 4, 16))
    self.assertTrue(model.freeze_encoder)
    learner = cfg.task.train.learner
    self.assertEqual(learner.bprop_variable_exclusion,
                     [video.ENCODER_EXCLUSION])
    self.assertEqual(warm_start.source_dirs(cfg.task), [warm_start.UNSET])
    rules = cfg.task.train.init_from_checkpoint_rules[warm_start.UNSET]
    self.assertEqual(rules.load_rules, [video.ENCODER_LOAD_RULE])
    train, (test,) = cfg.train_datasets[0], cfg.eval_datasets
    self.assertIs(train.cls, video_data.VideoInput)
    self.assertEqual((train.num_frames, train.image_size, train.batch_size,
                      test.split, test.num_examples), (8, 32, 32, 'test', 512))
    self.assertEqual(cfg.input_specs_provider.num_classes, 16)

  @parameterized.parameters('smoke', 'tiny', 'b16')
  def test_every_size_builds(self, size):
    cfg = video.video(size)
    self.assertEqual(cfg.task.train.num_train_steps,
                     video.SIZES[size].run.steps)
    self.assertEqual(cfg.input_specs_provider.image_size,
                     pretrain.pretrain(size).input_specs_provider.image_size)

  def test_baselines_and_heads(self):
    self.assertEqual(video.video('smoke', frames='middle').task.model.frames,
                     'middle')
    rand = video.video('smoke', encoder_init='random')
    self.assertEqual(warm_start.source_dirs(rand.task), [])
    # Still frozen: the random encoder never trains.
    self.assertEqual(rand.task.train.learner.bprop_variable_exclusion,
                     [video.ENCODER_EXCLUSION])
    head = video.video('smoke', head='transformer',
                       temporal_layers=2).task.model.temporal_head_tpl
    self.assertIs(head.cls, temporal.TemporalTransformerHead)
    self.assertEqual(head.num_layers, 2)

  def test_frames_and_tfds_data(self):
    tmp = tempfile.TemporaryDirectory()
    self.addCleanup(tmp.cleanup)
    for split in ('train', 'test'):
      clip = os.path.join(tmp.name, split, 'wave', 'c0')
      os.makedirs(clip)
      for j in range(3):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(
            os.path.join(clip, f'frame_{j}.png'))
    cfg = video.video('smoke', 'frames', data_dir=tmp.name, num_classes=2)
    self.assertIs(cfg.train_datasets[0].cls, video_real.FrameFolderInput)
    self.assertEqual(cfg.task.model.num_motions, 0)
    pax_fiddle.instantiate(cfg.eval_datasets[0])  # The layout checks pass.
    cfg = video.video('smoke', 'tfds', tfds_name='ucf101', num_classes=101)
    self.assertIs(cfg.eval_datasets[0].cls, video_real.TfdsVideoInput)

  def test_bad_arguments(self):
    for kwargs, msg in (
        (dict(size='paper'), "No video run for size 'paper'"),
        (dict(head='lstm'), "Unknown head 'lstm'"),
        (dict(encoder_init='imagenet'), "Unknown encoder_init 'imagenet'"),
        (dict(encoder_init='random', pretrain_dir='runs/x'),
         'loads no checkpoint'),
        (dict(num_classes=5), '2 shapes x 2 motions make 4'),
        (dict(data='frames'), "data='frames' needs num_classes"),
        (dict(data='frames', num_classes=3), 'needs data_dir'),
        (dict(data='youtube', num_classes=3), "Unknown video data 'youtube'"),
        (dict(frames='first'), "Unknown frames='first'")):
      with self.assertRaisesRegex(ValueError, msg):
        video.video(**{'size': 'smoke', **kwargs})


if __name__ == '__main__':
  absltest.main()
