# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Video classification on frozen per-frame ViT-22B features.

The pretraining run's image encoder (or, as a baseline, a randomly
initialised one) encodes every frame, frames folded into the batch, and
stays frozen bit for bit: its variables are excluded from the learner (no
gradient, optimizer state or weight decay) and its outputs pass through
stop_gradient. A temporal head and a zero-initialised softmax classifier
train on top (`vit22b_pax.models.video`).

  python -m vit22b_pax.main --job_log_dir=runs/video \
      --fdl=config:fiddle_configs.video.video(size='tiny',pretrain_dir='runs/pretrain')

Baselines (same head, same run): frames='middle' (one frame: motion classes
should fall to chance), encoder_init='random' (a frozen random encoder).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Mapping, Sequence

from fiddle_configs import common
from fiddle_configs import pretrain
from vit22b_pax.data import video as video_data
from vit22b_pax.data import video_real
from vit22b_pax.models import video as video_model

ENCODER_EXCLUSION = r'.*params/network/.*'
ENCODER_LOAD_RULE = (r'params/network/(.*)', 'params/network/{}')
DATA = ('procedural', 'frames', 'tfds')
HEADS = ('map', 'transformer')
ENCODER_INITS = ('pretrained', 'random')


@dataclasses.dataclass(frozen=True)
class VideoSize:
  """The video run of one pretraining size.

  Attributes:
    num_frames: frames per clip T.
    shapes: procedural shapes.
    motions: procedural motions (classes = shapes x motions).
    run: batch (clips), schedule and intervals.
    eval_examples: procedural test clips.
  """

  num_frames: int
  shapes: tuple[str, ...]
  motions: tuple[str, ...]
  run: common.Run
  eval_examples: int


SIZES: dict[str, VideoSize] = {
    'smoke': VideoSize(
        3, ('triangle', 'square'), ('left', 'right'),
        common.Run(
            batch_size=8, steps=4, learning_rate=1e-3, warmup=2, cooldown=2,
            timescale=2, weight_decay=1e-4, head_weight_decay=1e-4,
            summary_every=2, eval_every=4, checkpoint_every=4), 16),
    # CPU minutes: 8 frames of 32 px, 16 classes, 32 clips per step.
    'tiny': VideoSize(
        8, ('triangle', 'square', 'heart', 'cross'),
        ('left', 'right', 'clockwise', 'counterclockwise'),
        common.Run(
            batch_size=32, steps=800, learning_rate=3e-3, warmup=50,
            cooldown=150, timescale=1000, weight_decay=1e-4,
            head_weight_decay=1e-4, summary_every=100, eval_every=400,
            checkpoint_every=400),
        512),
    # One accelerator: 16 frames of 224 px, 36 classes, 256 clips per step.
    'b16': VideoSize(
        16, video_data.VIDEO_SHAPES, video_data.MOTIONS,
        common.Run(
            batch_size=256, steps=5000, learning_rate=1e-3, warmup=500,
            cooldown=1000, timescale=1000, weight_decay=1e-4,
            head_weight_decay=1e-4, summary_every=100, eval_every=1000,
            checkpoint_every=1000), 2048),
}


def video_size(size: str) -> VideoSize:
  if size not in SIZES:
    raise ValueError(f'No video run for size {size!r}; expected one of '
                     f'{sorted(SIZES)}.')
  return SIZES[size]


def video_data_config(
    data: str, *, num_frames: int, image_size: int, num_classes: int,
    batch_size: int, seed: int, eval_examples: int,
    shapes: Sequence[str] = (), motions: Sequence[str] = (),
    data_dir: str | None = None, tfds_name: str | None = None,
    train_split: str = 'train', eval_split: str | None = None,
    video_key: str = 'video', label_key: str = 'label') -> common.Data:
  """Train and test clip inputs (`video` [B, T, S, S, 3]) and their specs.

  Args:
    data: 'procedural' (moving shapes), 'frames' (data_dir/<split>/<class>/
      <clip_id>/frame_*.png) or 'tfds' (a prepared TFDS video data set).
    num_frames: T.
    image_size: frame side.
    num_classes: K (procedural: must be len(shapes) * len(motions)).
    batch_size: global batch of clips.
    seed: data seed.
    eval_examples: procedural test clips.
    shapes, motions: procedural classes.
    data_dir: 'frames' root or TFDS data dir.
    tfds_name: TFDS name ('tfds').
    train_split, eval_split: splits (eval default 'test').
    video_key, label_key: TFDS features.
  """
  if data not in DATA:
    raise ValueError(f'Unknown video data {data!r}; expected one of {DATA}.')
  eval_split = eval_split or 'test'
  common_args = dict(num_frames=num_frames, image_size=image_size,
                     num_classes=num_classes, seed=seed,
                     batch_size=common.per_host(batch_size))

  def make(split, is_training):
    args = dict(common_args, name='train' if is_training else split,
                split=split, is_training=is_training)
    if not is_training:
      args.update(reset_for_eval=True, eval_loop_num_batches=-1)
    if data == 'procedural':
      return common.Config(
          video_data.VideoInput, shapes=tuple(shapes), motions=tuple(motions),
          num_examples=0 if is_training else eval_examples, **args)
    if data == 'frames':
      if not data_dir:
        raise ValueError("data='frames' needs data_dir (holding "
                         f'{train_split}/<class>/<clip_id>/frame_*.png).')
      return common.Config(video_real.FrameFolderInput, root=data_dir,
                           **args)
    if not tfds_name:
      raise ValueError("data='tfds' needs tfds_name.")
    return common.Config(video_real.TfdsVideoInput, dataset_name=tfds_name,
                         data_dir=data_dir, video_key=video_key,
                         label_key=label_key, **args)

  specs = common.Config(
      video_data.VideoInputSpecsProvider, num_frames=num_frames,
      image_size=image_size, num_classes=num_classes,
      batch_size=common.per_host(batch_size))
  return common.Data(make(train_split, True), [make(eval_split, False)],
                     specs)


def video(
    size: str = 'tiny',
    data: str = 'procedural',
    *,
    pretrain_dir: str | None = None,
    pretrain_step: int | None = None,
    head: str = 'map',
    frames: str = 'all',
    encoder_init: str = 'pretrained',
    temporal_layers: int = 1,
    num_frames: int | None = None,
    shapes: Sequence[str] | None = None,
    motions: Sequence[str] | None = None,
    num_classes: int | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    seed: int = 0,
    data_dir: str | None = None,
    tfds_name: str | None = None,
    train_split: str = 'train',
    eval_split: str | None = None,
    video_key: str = 'video',
    label_key: str = 'label',
    source: Mapping[str, Any] | None = None,
) -> common.Config:
  """Video classification with a frozen per-frame encoder.

  Args:
    size: the source pretraining size ('smoke', 'tiny', 'b16'); the encoder
      and frame resolution are its, the run is SIZES[size].
    data: 'procedural', 'frames' or 'tfds' (see `video_data_config`).
    pretrain_dir: the source run's job_log_dir (encoder_init='pretrained').
    pretrain_step: its checkpoint step; None = the latest.
    head: 'map' (attention pooling over all frames x tokens) or
      'transformer' (factorised temporal transformer over per-frame
      embeddings); both add a learned time embedding.
    frames: 'all', or 'middle' (single-frame baseline: frame T // 2).
    encoder_init: 'pretrained' (pretrain_dir) or 'random' (baseline: the
      encoder stays at its random initialisation, frozen).
    temporal_layers: blocks of the 'transformer' head.
    num_frames: T; default the size's.
    shapes, motions: procedural classes; default the size's.
    num_classes: default len(shapes) * len(motions) (procedural); required
      for 'frames' and 'tfds'.
    steps: training steps.
    batch_size: global batch of clips.
    learning_rate: peak learning rate.
    seed: data seed; the head is initialised with seed 1234 + seed.
    data_dir, tfds_name, train_split, eval_split, video_key, label_key:
      the real-data inputs (see `video_data_config`).
    source: more arguments of the source's `pretrain.pretrain` call.
  """
  vs = video_size(size)
  if head not in HEADS:
    raise ValueError(f'Unknown head {head!r}; expected one of {HEADS}.')
  if encoder_init not in ENCODER_INITS:
    raise ValueError(f'Unknown encoder_init {encoder_init!r}; expected one '
                     f'of {ENCODER_INITS}.')
  if encoder_init == 'random' and pretrain_dir:
    raise ValueError("encoder_init='random' loads no checkpoint; drop "
                     f'pretrain_dir={pretrain_dir!r} (or use '
                     "encoder_init='pretrained').")
  src = pretrain.pretrain(size, **(source or {}))
  run = vs.run
  steps = steps or run.steps
  batch_size = batch_size or run.batch_size
  num_frames = num_frames or vs.num_frames
  shapes = tuple(shapes or vs.shapes)
  motions = tuple(motions or vs.motions)
  if data == 'procedural':
    k = len(shapes) * len(motions)
    if num_classes not in (None, k):
      raise ValueError(f'num_classes={num_classes} but {len(shapes)} shapes '
                       f'x {len(motions)} motions make {k} classes.')
    num_classes = k
  elif not num_classes:
    raise ValueError(f'data={data!r} needs num_classes.')
  image_size = src.input_specs_provider.image_size

  # Model: the source's encoder, unchanged, per frame; a temporal head.
  encoder = copy.deepcopy(src.task.model.network_tpl)
  model = video_model.video_classifier_config(
      encoder, num_classes, num_frames, head=head, frames=frames,
      freeze_encoder=True,
      num_motions=len(motions) if data == 'procedural' else 0,
      temporal_layers=temporal_layers)

  # Optimizer: the encoder is excluded (no gradient, state or decay).
  learner = common.learner(run, steps, learning_rate=learning_rate,
                           frozen=ENCODER_EXCLUSION)
  task = common.task(
      f'video_{data}_{size}', model, learner, run, steps=steps, seed=seed,
      mesh=src.task.model.ici_mesh_shape,
      dtype=str(src.task.model.fprop_dtype))
  if encoder_init == 'pretrained':
    common.warm_start(task, src, pretrain_dir, [ENCODER_LOAD_RULE],
                      step=pretrain_step)

  inputs = video_data_config(
      data, num_frames=num_frames, image_size=image_size,
      num_classes=num_classes, batch_size=batch_size, seed=seed,
      eval_examples=vs.eval_examples, shapes=shapes, motions=motions,
      data_dir=data_dir, tfds_name=tfds_name, train_split=train_split,
      eval_split=eval_split, video_key=video_key, label_key=label_key)
  return common.experiment_config(task, inputs)
