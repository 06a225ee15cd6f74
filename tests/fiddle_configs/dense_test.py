# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The dense recipes: backbones, decoders, data kinds and bad arguments."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized

from fiddle_configs import dense
from vit22b_pax.data import dense_inputs
from vit22b_pax.data import dense_real
from vit22b_pax.runtime import dense_program
from vit22b_pax.layers import decoders
from vit22b_pax.layers import dpt
from vit22b_pax.runtime import warm_start


def _eval_input(cfg):
  (program,) = cfg.extra_eval_programs
  assert program.__fn_or_cls__ is dense_program.PooledMetricsEvalProgram
  return program.input_p


class DenseRecipeTest(parameterized.TestCase):

  def test_tiny_segmentation_defaults(self):
    cfg = dense.segmentation(size='tiny', pretrain_dir='/runs/pretrain')
    model = cfg.task.model
    self.assertEqual(model.task, 'segmentation')
    self.assertEqual(model.num_classes, 9)
    self.assertTrue(model.freeze_encoder)
    self.assertIs(model.decoder_tpl.__fn_or_cls__, decoders.LinearDecoder)
    net = model.network_tpl
    self.assertEqual(net.feature_layers, (0, 1, 2, 3))
    self.assertEqual((net.model_dims, net.patch_size, net.pos_emb_grid),
                     (128, 8, (4, 4)))
    train = cfg.task.train
    self.assertEqual(train.num_train_steps, 600)
    self.assertEqual(train.learner.bprop_variable_inclusion, ['.*decoder.*'])
    self.assertEqual(train.learner.optimizer.learning_rate, 1e-2)
    self.assertEqual(warm_start.source_dirs(cfg.task),
                     ['/runs/pretrain/checkpoints'])
    (rules,) = train.init_from_checkpoint_rules.values()
    self.assertEqual(rules.load_rules,
                     [(r'params/network/(.*)', 'params/network/{}')])
    self.assertEqual(rules.ignore_rules, [r'params/decoder/.*'])
    self.assertEqual(cfg.eval_datasets, [])
    (tr,) = cfg.train_datasets
    test = _eval_input(cfg)
    self.assertIs(tr.__fn_or_cls__, dense_inputs.DenseProceduralInput)
    self.assertEqual((tr.split, tr.image_size, tr.batch_size, tr.style),
                     ('train', 32, 64, 'grey'))
    self.assertEqual((test.split, test.num_examples, test.reset_for_eval,
                      test.eval_loop_num_batches), ('test', 512, True, -1))

  def test_backbones(self):
    random = dense.depth(size='tiny', backbone='random', seed=3)
    self.assertEqual(warm_start.source_dirs(random.task), [])
    self.assertTrue(random.task.model.freeze_encoder)
    self.assertEqual(random.task.train.random_seed, 1237)
    # Seeds vary the train stream, never the test set.
    self.assertEqual(random.train_datasets[0].seed, 3)
    self.assertEqual(_eval_input(random).seed, 0)
    trained = dense.depth(size='tiny', backbone='trained', pretrain_dir='/p')
    self.assertFalse(trained.task.model.freeze_encoder)
    self.assertFalse(trained.task.train.learner.bprop_variable_inclusion)
    self.assertEqual(warm_start.source_dirs(trained.task),
                     ['/p/checkpoints'])
    unset = dense.depth(size='tiny')
    self.assertEqual(warm_start.source_dirs(unset.task), [warm_start.UNSET])

  def test_depth_defaults_to_dpt(self):
    cfg = dense.depth(size='tiny', backbone='random')
    dec = cfg.task.model.decoder_tpl
    self.assertIs(dec.__fn_or_cls__, dpt.DPTDecoder)
    self.assertEqual((dec.reassemble_dims, dec.fusion_dims, dec.head_dims),
                     ((8, 16, 32, 32), 16, 8))
    self.assertEqual(cfg.task.model.depth_loss, 'silog')
    self.assertTrue(cfg.input_specs_provider.with_depth)
    self.assertFalse(cfg.input_specs_provider.with_label)

  def test_accelerator_sizes(self):
    b16 = dense.segmentation(size='b16', data='tfds', backbone='random')
    net = b16.task.model.network_tpl
    self.assertEqual((net.model_dims, net.num_layers, net.feature_layers),
                     (768, 12, (2, 5, 8, 11)))
    test = _eval_input(b16)
    self.assertIs(test.__fn_or_cls__, dense_real.DenseTfdsInput)
    self.assertEqual((test.dataset_name, test.split, test.num_classes,
                      test.reduce_zero_label, test.image_size),
                     ('scene_parse150', 'test', 150, True, 512))
    paper = dense.depth(size='paper', data='tfds', image_size=476,
                        image_width=630)
    net = paper.task.model.network_tpl
    self.assertEqual((net.model_dims, net.feature_layers, net.scan),
                     (6144, (11, 23, 35, 47), True))
    self.assertEqual(paper.task.model.ici_mesh_shape, [1, 64, 16])
    self.assertEqual(paper.task.model.decoder_tpl.activation_split_dims_mapping
                     .bhwc, (('replica', 'data'), None, None, None))
    self.assertIsNone(b16.task.model.decoder_tpl.activation_split_dims_mapping
                      .bhwc)
    self.assertEqual((_eval_input(paper).image_size,
                      _eval_input(paper).image_width), (476, 630))

  def test_folder_layouts(self):
    with tempfile.TemporaryDirectory() as tmp:
      classes = os.path.join(tmp, 'classes.txt')
      with open(classes, 'w') as f:
        f.write('a\nb\nc\n')
      ade = dense.segmentation(size='smoke', data='folder', data_dir=tmp,
                               class_list=classes, backbone='random')
      pascal = dense.segmentation(size='smoke', data='folder',
                                  layout='pascal', data_dir=tmp,
                                  class_list=classes, backbone='random')
    self.assertEqual(ade.task.model.num_classes, 3)
    tr = ade.train_datasets[0]
    self.assertEqual((tr.image_dir, tr.mask_dir, tr.reduce_zero_label),
                     (f'{tmp}/images/training', f'{tmp}/annotations/training',
                      True))
    self.assertEqual(_eval_input(ade).image_dir, f'{tmp}/images/validation')
    self.assertEqual(_eval_input(pascal).split_file,
                     f'{tmp}/ImageSets/Segmentation/val.txt')
    self.assertEqual(_eval_input(pascal).ignore_values, (255,))
    depth = dense.depth(size='smoke', data='folder', data_dir='/d',
                        backbone='random', depth_scale=256.0)
    self.assertEqual((depth.train_datasets[0].depth_dir,
                      depth.train_datasets[0].depth_scale),
                     ('/d/train/depth', 256.0))
    # The 2-block smoke encoder is too shallow for DPT's 4 levels.
    self.assertIs(depth.task.model.decoder_tpl.__fn_or_cls__,
                  decoders.LinearDecoder)

  @parameterized.named_parameters(
      ('task', dict(task='pose'), "Unknown task 'pose'"),
      ('backbone', dict(backbone='imagenet'), "Unknown backbone 'imagenet'"),
      ('random_with_source', dict(backbone='random', pretrain_dir='/p'),
       "backbone='random' trains on a randomly initialised encoder; drop "
       "pretrain_dir='/p'"),
      ('decoder', dict(decoder='unet'), "Unknown decoder 'unet'"),
      ('dpt_layers', dict(decoder='dpt', feature_layers=(1, 3)),
       'decoder=dpt needs 4 feature_layers, got 2'),
      ('data', dict(data='csv'), "Unknown data 'csv'"),
      ('layout_task', dict(data='folder', layout='depth', data_dir='/d'),
       "layout='depth' holds depth data, not segmentation"),
      ('no_dir', dict(data='folder'), 'data=folder needs data_dir'),
      ('no_classes', dict(data='folder', data_dir='/d'),
       "layout='ade20k' needs class_list"),
      ('tfds_task', dict(data='tfds', tfds_name='nyu_depth_v2'),
       "'nyu_depth_v2' holds depth data, not segmentation"),
      ('size', dict(size='huge'), "Unknown size 'huge'"),
  )
  def test_bad_arguments(self, kwargs, message):
    kwargs = {'task': 'segmentation', 'size': 'tiny', **kwargs}
    with self.assertRaisesRegex(ValueError, message):
      dense.dense(**kwargs)


if __name__ == '__main__':
  absltest.main()
