# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The pretraining recipe: sizes, data kinds, switches and bad arguments."""

from absl.testing import absltest
from absl.testing import parameterized
from praxis.layers import base_ops

from fiddle_configs import common
from fiddle_configs import pretrain
from vit22b_pax.data import inputs
from vit22b_pax.data import real
from vit22b_pax.data import tfdata
from vit22b_pax.layers import collective_einsum


class PretrainTest(parameterized.TestCase):

  def test_tiny_is_the_make_train_job(self):
    cfg = pretrain.pretrain('tiny')
    net = cfg.task.model.network_tpl
    self.assertEqual((net.model_dims, net.num_layers, net.hidden_dims,
                      net.num_heads, net.patch_size, net.pooling, net.scan),
                     (128, 4, 512, 4, 8, 'gap', False))
    train = cfg.task.train
    self.assertEqual((train.num_train_steps, train.summary_interval_steps,
                      train.eval_interval_steps, train.save_interval_steps,
                      train.random_seed), (2000, 100, 500, 500, 1234))
    self.assertTrue(train.enable_input_checkpointing)
    opt = train.learner.optimizer
    self.assertEqual((opt.learning_rate, opt.weight_decay,
                      opt.head_weight_decay), (1e-3, 1e-4, 1e-3))
    sched = opt.lr_schedule
    self.assertEqual((sched.warmup_steps, sched.cooldown_steps,
                      sched.timescale, sched.total_steps),
                     (100, 300, 1000, 2000))
    self.assertEqual(cfg.train_datasets[0].batch_size, 64)
    self.assertEqual([d.split for d in cfg.eval_datasets],
                     ['test', 'conflict'])
    self.assertEqual(cfg.input_specs_provider.image_size, 32)
    self.assertEqual(cfg.task.model.softmax_tpl.num_classes, 8)

  def test_short_runs_shorten_warmup_and_cooldown(self):
    sched = pretrain.pretrain('tiny', steps=300).task.train.learner\
        .optimizer.lr_schedule
    self.assertEqual((sched.warmup_steps, sched.cooldown_steps,
                      sched.total_steps), (30, 60, 300))

  @parameterized.parameters('smoke', 'tiny', 'b16', 'paper')
  def test_every_size_builds(self, size):
    cfg = pretrain.pretrain(size, data='tfds' if size == 'paper' else
                            'procedural')
    scale = common.scale(size)
    self.assertEqual(cfg.task.train.num_train_steps, scale.pretrain.steps)
    self.assertEqual(list(cfg.task.model.ici_mesh_shape), list(scale.mesh))

  def test_paper(self):
    cfg = pretrain.pretrain('paper', 'tfds')
    net = cfg.task.model.network_tpl
    self.assertEqual((net.model_dims, net.num_layers, net.patch_size,
                      net.scan, net.remat_policy),
                     (6144, 48, 14, True, 'save_nothing'))
    self.assertEqual(str(cfg.task.model.fprop_dtype), 'bfloat16')
    self.assertEqual(net.block_tpl.weight_split_dims_mapping.dnh,
                     ('data', 'mdl', None))
    self.assertIs(cfg.train_datasets[0].cls, real.TfdsInput)
    self.assertTrue(cfg.train_datasets[0].inception_crop)

  def test_fashion_mnist(self):
    cfg = pretrain.pretrain('tiny', 'fashion_mnist')
    self.assertEqual(cfg.task.model.network_tpl.patch_size, 4)
    self.assertEqual(cfg.input_specs_provider.image_size, 28)
    self.assertEqual(cfg.task.model.softmax_tpl.num_classes, 10)
    self.assertIs(cfg.train_datasets[0].cls, real.FashionMnistInput)

  def test_image_folder_options(self):
    cfg = pretrain.pretrain('tiny', 'image_folder', data_dir='/d',
                            num_classes=5, train_split='tr', eval_split='va',
                            decoder='numpy', labels_csv='labels.csv',
                            multi_label=True)
    for data in cfg.train_datasets + cfg.eval_datasets:
      self.assertIs(data.cls, real.ImageFolderInput)
      self.assertEqual((data.root, data.class_split, data.labels_csv),
                       ('/d', 'tr', 'labels.csv'))
    self.assertEqual(cfg.eval_datasets[0].split, 'va')
    self.assertTrue(cfg.task.model.multi_label)
    cfg = pretrain.pretrain('tiny', 'image_folder', data_dir='/d',
                            num_classes=5)
    self.assertIs(cfg.train_datasets[0].cls, tfdata.TfDataImageFolderInput)
    with self.assertRaisesRegex(ValueError, "Unknown decoder 'pil'"):
      pretrain.pretrain('tiny', 'image_folder', data_dir='/d', num_classes=5,
                        decoder='pil')

  def test_model_overrides_and_seed(self):
    cfg = pretrain.pretrain('smoke', seed=3,
                            model={'qk_norm': False, 'num_layers': 3})
    net = cfg.task.model.network_tpl
    self.assertEqual(net.num_layers, 3)
    self.assertFalse(net.block_tpl.qk_norm)
    self.assertEqual(cfg.task.train.random_seed, 1237)
    self.assertIs(cfg.train_datasets[0].cls, inputs.ProceduralInput)
    self.assertTrue(all(d.seed == 3 for d in
                        cfg.train_datasets + cfg.eval_datasets))

  def test_collective_matmul_and_mesh(self):
    on = pretrain.pretrain('smoke', mesh=(1, 2, 4), collective_matmul='auto')
    off = pretrain.pretrain('smoke', mesh=(1, 2, 4))
    for cfg, op in ((on, collective_einsum.CollectiveEinsumOp),
                    (off, base_ops.EinsumOp)):
      block = cfg.task.model.network_tpl.block_tpl
      self.assertIs(block.in_einsum_tpl.cls, op)
      self.assertEqual(block.weight_split_dims_mapping.dnh,
                       ('data', 'mdl', None))
    single = pretrain.pretrain('smoke')
    self.assertIsNone(
        single.task.model.network_tpl.block_tpl.weight_split_dims_mapping.dnh)

  @parameterized.named_parameters(
      ('size', dict(size='huge'), "Unknown size 'huge'"),
      ('data', dict(data='jft'), "Unknown data 'jft'"),
      ('folder', dict(data='image_folder', num_classes=3), 'needs data_dir'),
      ('classes', dict(data='image_folder', data_dir='/x'),
       'needs num_classes'),
      ('mesh', dict(mesh=(2, 2)), 'must have 3 dims'),
  )
  def test_bad_arguments(self, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      pretrain.pretrain(**kwargs)


if __name__ == '__main__':
  absltest.main()
