# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Semantic segmentation and monocular depth on a pretraining run's features.

The paper's frozen-feature evaluation: the source run's encoder hands out the
patch tokens of four evenly spaced blocks (`ViT22BEncoder.features`) and a
thin decoder trains on them (`models.dense.DenseModel`): a linear decoder or
a progressive one for segmentation, DPT or a linear one for depth. The
`backbone` argument picks the encoder:

  'pretrained'  the source run's weights, frozen: excluded from the learner
                (no update, no optimizer state, no weight decay: bit for bit
                the checkpoint) and no gradient reaches it;
  'random'      the same encoder at its random initialisation, frozen (no
                source run): the baseline pretrained features must beat;
  'trained'     the source run's weights, trained with the decoder.

Metrics cover the whole eval set (`runtime.dense_program`): mIoU and pixel
accuracy from one confusion matrix; RMSE, AbsRel, log10 and delta1..3 per
image, averaged over images, with big_vision's strict valid-depth mask
(`--fdl=set:task.model.depth_metric_reduction=pooled` and
`task.model.depth_valid_mask=inclusive` give the former pooled, inclusive
ones).

The recipe `dense()` reads in three named steps: `_model` (the source's
encoder and the decoder), `_task` (learner, run, warm start) and the inputs
(`_procedural`, `_folder_pair`, `_tfds_pair`).

  python -m vit22b_pax.main --job_log_dir=runs/seg \
      --fdl=config:fiddle_configs.dense.segmentation(size='tiny',pretrain_dir='runs/pretrain')
  python -m vit22b_pax.main --job_log_dir=runs/depth_random \
      --fdl=config:fiddle_configs.dense.depth(size='tiny',backbone='random')
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, Mapping, Sequence

from fiddle_configs import common
from fiddle_configs import pretrain
from vit22b_pax.data import dense as dense_data
from vit22b_pax.data import dense_inputs
from vit22b_pax.data import dense_real
from vit22b_pax.runtime import dense_program
from vit22b_pax.layers import decoders
from vit22b_pax.layers import dpt
from vit22b_pax.layers import encoder as encoder_lib
from vit22b_pax.models import dense as dense_model

Config = common.Config
TASKS = ('segmentation', 'depth')
BACKBONES = ('pretrained', 'random', 'trained')
DECODERS = ('linear', 'progressive', 'dpt')
DATA = ('procedural', 'folder', 'tfds')
LAYOUTS = {  # layout: (task, default train split, default eval split)
    'ade20k': ('segmentation', 'training', 'validation'),
    'pascal': ('segmentation', 'train', 'val'),
    'depth': ('depth', 'train', 'test')}
TFDS = {  # name: (task, num_classes, train split, eval split)
    'scene_parse150': ('segmentation', 150, 'train', 'test'),
    'nyu_depth_v2': ('depth', 0, 'train', 'validation')}
NETWORK = r'params/network/(.*)'
DECODER = r'params/decoder/.*'


@dataclasses.dataclass(frozen=True)
class DenseScale:
  """Decoder widths, run and procedural resolution of one size.

  Attributes:
    run: the dense run (batch, steps, schedule, intervals).
    image_size: procedural resolution (the tiny size's is its pretraining
      resolution: the 4x4 patch grid needs no posemb resampling).
    progressive_dims: ProgressiveDecoder channels.
    dpt_dims: DPT (reassemble_dims, fusion_dims, head_dims).
    eval_examples: procedural test images.
  """
  run: common.Run
  image_size: int
  progressive_dims: int
  dpt_dims: tuple[tuple[int, int, int, int], int, int]
  eval_examples: int


SCALES = {
    'smoke': DenseScale(
        run=common.Run(
            batch_size=8, steps=4, learning_rate=1e-2, warmup=1, cooldown=1,
            timescale=2, weight_decay=1e-4, head_weight_decay=1e-4,
            summary_every=2, eval_every=2, checkpoint_every=2),
        image_size=16, progressive_dims=8, dpt_dims=((4, 4, 8, 8), 8, 4),
        eval_examples=16),
    # CPU minutes: linear decoders need a large rate; the decoder's layers
    # named 'head' get the body's weight decay.
    'tiny': DenseScale(
        run=common.Run(
            batch_size=64, steps=600, learning_rate=1e-2, warmup=50,
            cooldown=150, timescale=1000, weight_decay=1e-4,
            head_weight_decay=1e-4, summary_every=100, eval_every=300,
            checkpoint_every=300),
        image_size=32, progressive_dims=32, dpt_dims=((8, 16, 32, 32), 16, 8),
        eval_examples=512),
    'b16': DenseScale(
        run=common.Run(
            batch_size=256, steps=10_000, learning_rate=1e-3, warmup=500,
            cooldown=1000, timescale=1000, weight_decay=1e-4,
            head_weight_decay=1e-4, summary_every=100, eval_every=1000,
            checkpoint_every=1000),
        image_size=224, progressive_dims=128,
        dpt_dims=((96, 192, 384, 768), 256, 32), eval_examples=10_000),
    'paper': DenseScale(
        run=common.Run(
            batch_size=64, steps=20_000, learning_rate=1e-3, warmup=500,
            cooldown=2000, timescale=1000, weight_decay=1e-4,
            head_weight_decay=1e-4, summary_every=100, eval_every=1000,
            checkpoint_every=1000),
        image_size=224, progressive_dims=256,
        dpt_dims=((256, 512, 1024, 1024), 256, 32), eval_examples=10_000),
}


def dense_scale(size: str) -> DenseScale:
  if size not in SCALES:
    raise ValueError(f'Unknown size {size!r}; expected one of '
                     f'{sorted(SCALES)}.')
  return SCALES[size]


def decoder_config(decoder: str, scale: DenseScale,
                   num_features: int) -> Config:
  """The decoder template (input/output widths are filled in by the model)."""
  if decoder == 'linear':
    return Config(decoders.LinearDecoder)
  if decoder == 'progressive':
    return Config(decoders.ProgressiveDecoder, num_features=num_features,
                  hidden_dims=scale.progressive_dims)
  if decoder == 'dpt':
    if num_features != 4:
      raise ValueError(f'decoder=dpt needs 4 feature_layers, got '
                       f'{num_features}.')
    reassemble, fusion, head = scale.dpt_dims
    return Config(dpt.DPTDecoder, reassemble_dims=reassemble,
                  fusion_dims=fusion, head_dims=head)
  raise ValueError(f'Unknown decoder {decoder!r}; expected one of '
                   f'{DECODERS}.')


def _eval_program(input_p: Config) -> Config:
  input_p.is_training = False
  input_p.reset_for_eval = True
  input_p.eval_loop_num_batches = -1
  return Config(dense_program.PooledMetricsEvalProgram, input_p=input_p)


def _procedural(scale, *, hw, num_classes, batch_size, seed, eval_examples,
                scene_style):
  common_args = dict(num_classes=num_classes, image_size=hw[0],
                     image_width=hw[1], style=scene_style)
  train = Config(dense_inputs.DenseProceduralInput, name='train',
                 split='train', is_training=True,
                 batch_size=common.per_host(batch_size), seed=seed,
                 **common_args)
  # Seed 0's test set for every seed: seeds vary the init and the train
  # stream, never what is measured.
  test = Config(dense_inputs.DenseProceduralInput, name='test', split='test',
                batch_size=common.per_host(batch_size), seed=0,
                num_examples=eval_examples or scale.eval_examples,
                **common_args)
  return train, test


def _folder(task, name, *, layout, data_dir, class_list, split, hw,
            num_classes, batch_size, seed, depth_scale):
  if layout not in LAYOUTS:
    raise ValueError(f'Unknown layout {layout!r}; expected one of '
                     f'{sorted(LAYOUTS)}.')
  if LAYOUTS[layout][0] != task:
    raise ValueError(f'layout={layout!r} holds {LAYOUTS[layout][0]} data, '
                     f'not {task}.')
  if not data_dir:
    raise ValueError(f'data=folder needs data_dir (the {layout} root), got '
                     f'{data_dir!r}.')
  args = dict(name=name, image_size=hw[0], image_width=hw[1], seed=seed,
              batch_size=common.per_host(batch_size),
              is_training=name == 'train')
  if layout == 'depth':
    return Config(dense_real.DepthFolderInput,
                  image_dir=f'{data_dir}/{split}/image',
                  depth_dir=f'{data_dir}/{split}/depth',
                  depth_scale=depth_scale or 1000.0, **args)
  if not class_list:
    raise ValueError(f'layout={layout!r} needs class_list (a text file with '
                     'one class name per line).')
  if layout == 'ade20k':
    return Config(dense_real.SegmentationFolderInput,
                  image_dir=f'{data_dir}/images/{split}',
                  mask_dir=f'{data_dir}/annotations/{split}',
                  class_list=class_list, reduce_zero_label=True,
                  ignore_values=(), num_classes=num_classes or 0, **args)
  return Config(dense_real.SegmentationFolderInput,
                image_dir=f'{data_dir}/JPEGImages',
                mask_dir=f'{data_dir}/SegmentationClass',
                split_file=f'{data_dir}/ImageSets/Segmentation/{split}.txt',
                class_list=class_list, ignore_values=(255,),
                num_classes=num_classes or 0, **args)


def _tfds(task, input_name, *, name, data_dir, split, hw, num_classes,
          batch_size, seed, depth_scale):
  if name not in TFDS:
    raise ValueError(f'Unknown tfds_name {name!r}; expected one of '
                     f'{sorted(TFDS)}.')
  if TFDS[name][0] != task:
    raise ValueError(f'{name!r} holds {TFDS[name][0]} data, not {task}.')
  return Config(dense_real.DenseTfdsInput, name=input_name,
                is_training=input_name == 'train', dataset_name=name,
                data_dir=data_dir, split=split, task=task,
                reduce_zero_label=name == 'scene_parse150',
                num_classes=num_classes or max(TFDS[name][1], 1),
                depth_scale=depth_scale or 1.0, image_size=hw[0],
                image_width=hw[1], seed=seed,
                batch_size=common.per_host(batch_size))


def dense(
    task: str = 'segmentation',
    size: str = 'tiny',
    data: str = 'procedural',
    *,
    decoder: str | None = None,
    backbone: str = 'pretrained',
    pretrain_dir: str | None = None,
    pretrain_step: int | None = None,
    feature_layers: Sequence[int] | None = None,
    image_size: int | None = None,
    image_width: int | None = None,
    num_classes: int | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    seed: int = 0,
    depth_loss: str = 'silog',
    max_depth: float = 10.0,
    scene_style: str = 'grey',
    eval_examples: int | None = None,
    data_dir: str | None = None,
    layout: str | None = None,
    class_list: str = '',
    tfds_name: str | None = None,
    train_split: str | None = None,
    eval_split: str | None = None,
    depth_scale: float | None = None,
    source: Mapping[str, Any] | None = None,
) -> common.Config:
  """A dense-prediction experiment on a pretraining run's encoder.

  Args:
    task: 'segmentation' or 'depth'.
    size: the source's size ('smoke', 'tiny', 'b16', 'paper'); it also
      picks the decoder widths and the run (`SCALES`).
    data: 'procedural' (scenes with class and depth maps, no files),
      'folder' (image + map folders, see `layout`) or 'tfds' (a prepared
      scene_parse150 / nyu_depth_v2).
    decoder: 'linear', 'progressive' or 'dpt'; default linear for
      segmentation, dpt for depth (linear when the encoder has fewer than
      the 4 blocks DPT reads, as size='smoke').
    backbone: 'pretrained' (frozen source weights), 'random' (frozen random
      encoder, no source run) or 'trained' (source weights, trained too).
    pretrain_dir: the source run's job_log_dir (pretrained / trained).
    pretrain_step: source checkpoint step; None = the latest.
    feature_layers: encoder blocks to decode; default 4 evenly spaced.
    image_size: height; default the size's (procedural), 512 (folder / tfds
      segmentation) or 480 (depth), rounded down to the patch size.
    image_width: width; default image_size (640 * image_size / 480 for
      depth folders and nyu_depth_v2).
    num_classes: segmentation classes; default the data's.
    steps: training steps.
    batch_size: global batch.
    learning_rate: peak learning rate.
    seed: model init (1234 + seed) and train-data seed; the procedural test
      set is the same for every seed.
    depth_loss: 'silog' (scale-invariant log) or 'l1'.
    max_depth: depth evaluation range upper end (metres).
    scene_style: procedural scenes: 'grey' or 'outdoor'.
    eval_examples: procedural test images.
    data_dir: folder root (data='folder') or TFDS data dir.
    layout: folder layout: 'ade20k', 'pascal' or 'depth' (data_dir/<split>/
      {image,depth}/<stem>.png|npy).
    class_list: folder segmentation: text file, one class name per line.
    tfds_name: 'scene_parse150' (segmentation) or 'nyu_depth_v2' (depth).
    train_split: default the layout's / data set's.
    eval_split: default the layout's / data set's.
    depth_scale: depth PNG units per metre (folder default 1000, tfds 1).
    source: more arguments of the source's `pretrain.pretrain` call (those
      that shaped its model).
  """
  _check_choices(task, backbone, data, pretrain_dir)
  scale = dense_scale(size)
  steps = steps or scale.run.steps
  batch_size = batch_size or scale.run.batch_size
  src = pretrain.pretrain(size, **(source or {}))
  # 1. Model: the source encoder handing out block features, and a decoder.
  model, hw, num_classes = _model(
      task, data, scale, src, decoder=decoder, backbone=backbone,
      feature_layers=feature_layers, image_size=image_size,
      image_width=image_width, num_classes=num_classes,
      class_list=class_list, tfds_name=tfds_name, depth_loss=depth_loss,
      max_depth=max_depth)
  # 2. Task: the learner, the run, the warm start from the source.
  task_p = _task(f'dense_{task}_{data}_{size}', model, scale.run, src,
                 backbone=backbone, steps=steps, learning_rate=learning_rate,
                 seed=seed, pretrain_dir=pretrain_dir,
                 pretrain_step=pretrain_step)
  # 3. Data: train and test inputs, the eval program of whole-set metrics.
  kw = dict(hw=hw, num_classes=num_classes, batch_size=batch_size,
            seed=seed)
  if data == 'procedural':
    train, test = _procedural(scale, eval_examples=eval_examples,
                              scene_style=scene_style, **kw)
  elif data == 'folder':
    train, test = _folder_pair(task, layout, data_dir, class_list,
                               depth_scale, train_split, eval_split, kw)
  else:
    train, test = _tfds_pair(task, tfds_name, data_dir, depth_scale,
                             train_split, eval_split, kw)
  specs = Config(dense_inputs.DenseInputSpecsProvider, image_size=hw[0],
                 image_width=hw[1], batch_size=common.per_host(batch_size),
                 with_label=task == 'segmentation',
                 with_depth=task == 'depth')
  return common.experiment_config(
      task_p, common.Data(train, [], specs),
      extra_eval_programs=[_eval_program(test)])


def _check_choices(task: str, backbone: str, data: str,
                   pretrain_dir: str | None) -> None:
  """Errors naming a bad task, backbone or data, or a conflicting source."""
  if task not in TASKS:
    raise ValueError(f'Unknown task {task!r}; expected one of {TASKS}.')
  if backbone not in BACKBONES:
    raise ValueError(f'Unknown backbone {backbone!r}; expected one of '
                     f'{BACKBONES}.')
  if data not in DATA:
    raise ValueError(f'Unknown data {data!r}; expected one of {DATA}.')
  if backbone == 'random' and pretrain_dir:
    raise ValueError("backbone='random' trains on a randomly initialised "
                     f'encoder; drop pretrain_dir={pretrain_dir!r}.')


def _model(task: str, data: str, scale: DenseScale, src: Config, *,
           decoder: str | None, backbone: str,
           feature_layers: Sequence[int] | None, image_size: int | None,
           image_width: int | None, num_classes: int | None,
           class_list: str, tfds_name: str | None, depth_loss: str,
           max_depth: float) -> tuple[Config, tuple[int, int], int]:
  """(DenseModel config, (H, W), num_classes): a copy of the source's
  encoder handing out the patch tokens of `feature_layers` (default 4
  evenly spaced blocks) and the decoder (default linear, DPT for depth when
  there are 4 feature blocks), its maps split over the batch like tokens."""
  encoder = copy.deepcopy(src.task.model.network_tpl)
  layers = tuple(feature_layers or encoder_lib.evenly_spaced_layers(
      encoder.num_layers, min(4, encoder.num_layers)))
  encoder.feature_layers = layers
  decoder = decoder or ('dpt' if task == 'depth' and len(layers) == 4
                        else 'linear')
  hw = _resolution(task, data, scale, image_size, image_width,
                   encoder.patch_size)
  num_classes = num_classes or _num_classes(task, data, class_list,
                                            tfds_name)
  decoder_p = decoder_config(decoder, scale, len(layers))
  if math.prod(src.task.model.ici_mesh_shape) > 1:
    decoder_p.activation_split_dims_mapping.bhwc = (
        tuple(common.MESH_AXES[:2]), None, None, None)
  model = dense_model.dense_model_config(
      encoder, decoder_p, task,
      num_classes=num_classes or 0, freeze_encoder=backbone != 'trained',
      depth_loss=depth_loss, max_depth=max_depth)
  return model, hw, num_classes


def _task(name: str, model: Config, run: common.Run, src: Config, *,
          backbone: str, steps: int, learning_rate: float | None, seed: int,
          pretrain_dir: str | None, pretrain_step: int | None) -> Config:
  """The task: a learner of the decoder only (unless the backbone trains
  too), the source's mesh and dtype, and the encoder warm-started from the
  source run (unless the backbone is random)."""
  learner = common.learner(
      run, steps, learning_rate=learning_rate,
      trainable=r'.*decoder.*' if backbone != 'trained' else None)
  task_p = common.task(
      name, model, learner, run, steps=steps, seed=seed,
      mesh=tuple(src.task.model.ici_mesh_shape),
      dtype=str(src.task.model.fprop_dtype))
  if backbone != 'random':
    common.warm_start(task_p, src, pretrain_dir,
                      [(NETWORK, 'params/network/{}')],
                      ignore_rules=[DECODER], step=pretrain_step)
  return task_p


def _folder_pair(task, layout, data_dir, class_list, depth_scale,
                 train_split, eval_split, kw) -> tuple[Config, Config]:
  """(train, test) folder inputs; splits default to the layout's."""
  layout = layout or ('ade20k' if task == 'segmentation' else 'depth')
  _, tr_split, ev_split = LAYOUTS.get(layout, (None, None, None))
  folder = dict(layout=layout, data_dir=data_dir, class_list=class_list,
                depth_scale=depth_scale, **kw)
  return (_folder(task, 'train', split=train_split or tr_split, **folder),
          _folder(task, 'test', split=eval_split or ev_split, **folder))


def _tfds_pair(task, tfds_name, data_dir, depth_scale, train_split,
               eval_split, kw) -> tuple[Config, Config]:
  """(train, test) TFDS inputs; splits default to the data set's."""
  name = tfds_name or ('scene_parse150' if task == 'segmentation'
                       else 'nyu_depth_v2')
  _, _, tr_split, ev_split = TFDS.get(name, (None,) * 4)
  tf = dict(name=name, data_dir=data_dir, depth_scale=depth_scale, **kw)
  return (_tfds(task, 'train', split=train_split or tr_split, **tf),
          _tfds(task, 'test', split=eval_split or ev_split, **tf))


def _num_classes(task: str, data: str, class_list: str,
                 tfds_name: str | None) -> int:
  """The data's segmentation classes (procedural: background + 8 kinds)."""
  if data == 'procedural':
    return len(dense_data.class_names(8))
  if task == 'depth':
    return 1  # No class map.
  if data == 'tfds':
    return TFDS.get(tfds_name or 'scene_parse150', (None, 0))[1]
  return len(dense_real.read_class_list(class_list)) if class_list else 0


def _resolution(task, data, scale, image_size, image_width,
                patch) -> tuple[int, int]:
  """(H, W), multiples of the patch size."""
  nyu = task == 'depth' and data != 'procedural'
  h = image_size or (scale.image_size if data == 'procedural' else
                     480 if nyu else 512)
  w = image_width or (h * 4 // 3 if nyu and not image_size else h)
  h, w = max(patch, h // patch * patch), max(patch, w // patch * patch)
  return h, w


def segmentation(size: str = 'tiny', data: str = 'procedural',
                 **kwargs: Any) -> common.Config:
  """Semantic segmentation on (frozen) features; args as `dense`."""
  return dense('segmentation', size, data, **kwargs)


def depth(size: str = 'tiny', data: str = 'procedural',
          **kwargs: Any) -> common.Config:
  """Monocular depth on (frozen) features; args as `dense`."""
  return dense('depth', size, data, **kwargs)
