# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Data mixins: each supplies `datasets()` and a cheap input-specs provider.

Mix one into a model base (`class X(ProceduralData, PretrainBase)`), then
override the UPPER_CASE constants. Every input yields the same NestedMap keys
(`image`, `label`, `label_probs`, `eval_sample_weights`, ...), see
`vit22b_pax/data/inputs.py`.
"""

from __future__ import annotations

from paxml import base_experiment
from praxis import pax_fiddle

from vit22b_pax.data import inputs
from vit22b_pax.data import real


class _ImageData(base_experiment.BaseExperiment):
  """Shared: input specs without building a pipeline."""

  IMAGE_SIZE = 32
  NUM_CLASSES = 8
  BATCH_SIZE = 64
  EVAL_BATCH_SIZE = None  # None: BATCH_SIZE.
  WITH_CAPTIONS = False
  CAPTION_LENGTH = 32
  INCEPTION_CROP = False
  FLIP = False
  MIXUP_ALPHA = 0.0

  def _eval_batch_size(self) -> int:
    return self.per_host_batch_size(self.EVAL_BATCH_SIZE or self.BATCH_SIZE)

  def get_input_specs_provider_params(self):
    return pax_fiddle.Config(
        inputs.ImageInputSpecsProvider, image_size=self.IMAGE_SIZE,
        num_classes=self.NUM_CLASSES,
        batch_size=self.per_host_batch_size(),
        with_captions=self.WITH_CAPTIONS, caption_length=self.CAPTION_LENGTH)


class ProceduralData(_ImageData):
  """The embedded procedural shapes-with-textures data (no files).

  Splits: train (shape and preferred texture correlated with probability
  TEXTURE_PROB), test (held out, same statistics) and conflict (every image
  wears another class's texture: shape-bias metric).
  """

  TEXTURE_PROB = 0.8
  SUBGROUP_CORR = 0.0
  DATA_SEED = 0
  EVAL_EXAMPLES = 512
  EVAL_CONFLICT = True

  def _procedural(self, split: str, is_training: bool, **kwargs):
    return pax_fiddle.Config(
        inputs.ProceduralInput, name=split if not is_training else 'train',
        split=split, is_training=is_training,
        num_classes=self.NUM_CLASSES, image_size=self.IMAGE_SIZE,
        texture_prob=self.TEXTURE_PROB, subgroup_corr=self.SUBGROUP_CORR,
        seed=self.DATA_SEED, with_captions=self.WITH_CAPTIONS,
        caption_length=self.CAPTION_LENGTH, **kwargs)

  def datasets(self):
    train = self._procedural(
        'train', True, batch_size=self.per_host_batch_size(),
        inception_crop=self.INCEPTION_CROP, flip=self.FLIP,
        mixup_alpha=self.MIXUP_ALPHA)
    evals = [self._procedural('test', False,
                              batch_size=self._eval_batch_size(),
                              num_examples=self.EVAL_EXAMPLES,
                              reset_for_eval=True, eval_loop_num_batches=-1)]
    if self.EVAL_CONFLICT:
      evals.append(self._procedural('conflict', False,
                                    batch_size=self._eval_batch_size(),
                                    num_examples=self.EVAL_EXAMPLES,
                                    reset_for_eval=True,
                                    eval_loop_num_batches=-1))
    return [train] + evals


class FashionMnistData(_ImageData):
  """Fashion-MNIST (real images) from the Debian package dataset-fashion-mnist.

  `apt-get install dataset-fashion-mnist` puts it in FASHION_MNIST_DIR.
  """

  FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist'
  NUM_CLASSES = 10
  EVAL_EXAMPLES = 2000

  def datasets(self):
    common = dict(data_dir=self.FASHION_MNIST_DIR,
                  image_size=self.IMAGE_SIZE, num_classes=self.NUM_CLASSES)
    return [
        pax_fiddle.Config(real.FashionMnistInput, name='train', split='train',
                          is_training=True,
                          batch_size=self.per_host_batch_size(),
                          flip=self.FLIP, mixup_alpha=self.MIXUP_ALPHA,
                          **common),
        pax_fiddle.Config(real.FashionMnistInput, name='test', split='test',
                          is_training=False, reset_for_eval=True,
                          eval_loop_num_batches=-1,
                          batch_size=self._eval_batch_size(),
                          num_examples=self.EVAL_EXAMPLES, **common),
    ]


class ImageFolderData(_ImageData):
  """Your own images: DATA_DIR/<split>/<class>/*.{png,jpg,jpeg}.

  Class names are the sorted folder names of the train split.
  """

  DATA_DIR = None
  TRAIN_SPLIT = 'train'
  EVAL_SPLIT = 'test'

  def datasets(self):
    if not self.DATA_DIR:
      raise ValueError('ImageFolderData needs DATA_DIR (a directory holding '
                       f'{self.TRAIN_SPLIT}/<class>/*.png|jpg); got '
                       f'{self.DATA_DIR!r}. Set it with --fdl.DATA_DIR=\'"/path"\'.')
    common = dict(root=self.DATA_DIR, image_size=self.IMAGE_SIZE,
                  num_classes=self.NUM_CLASSES)
    return [
        pax_fiddle.Config(real.ImageFolderInput, name='train',
                          split=self.TRAIN_SPLIT, is_training=True,
                          batch_size=self.per_host_batch_size(),
                          inception_crop=self.INCEPTION_CROP, flip=self.FLIP,
                          mixup_alpha=self.MIXUP_ALPHA, **common),
        pax_fiddle.Config(real.ImageFolderInput, name=self.EVAL_SPLIT,
                          split=self.EVAL_SPLIT, is_training=False,
                          reset_for_eval=True, eval_loop_num_batches=-1,
                          batch_size=self._eval_batch_size(), **common),
    ]


class TfdsData(_ImageData):
  """Any TFDS image-classification data set already prepared in TFDS_DATA_DIR
  (no download at run time)."""

  TFDS_NAME = None
  TFDS_DATA_DIR = None
  TRAIN_SPLIT = 'train'
  EVAL_SPLIT = 'validation'

  def datasets(self):
    if not self.TFDS_NAME:
      raise ValueError('TfdsData needs TFDS_NAME (e.g. "imagenet2012"); got '
                       f'{self.TFDS_NAME!r}.')
    common = dict(dataset_name=self.TFDS_NAME, data_dir=self.TFDS_DATA_DIR,
                  image_size=self.IMAGE_SIZE, num_classes=self.NUM_CLASSES)
    return [
        pax_fiddle.Config(real.TfdsInput, name='train', split=self.TRAIN_SPLIT,
                          is_training=True,
                          batch_size=self.per_host_batch_size(),
                          inception_crop=self.INCEPTION_CROP, flip=self.FLIP,
                          mixup_alpha=self.MIXUP_ALPHA, **common),
        pax_fiddle.Config(real.TfdsInput, name=self.EVAL_SPLIT,
                          split=self.EVAL_SPLIT, is_training=False,
                          reset_for_eval=True, eval_loop_num_batches=-1,
                          batch_size=self._eval_batch_size(), **common),
    ]
