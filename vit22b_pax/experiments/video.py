# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Video classification on frozen per-frame ViT-22B features.

The pretraining run's image encoder (loaded from PRETRAIN_DIR, or randomly
initialised with ENCODER_INIT='random') encodes every frame and stays frozen
bit for bit: its variables are excluded from the learner (no gradient,
optimizer state or weight decay) and its outputs pass through
stop_gradient. Only the temporal head and the classifier train.

Switches (class constants, `--fdl.X=...`):
  HEAD          'map' (attention pooling over frames x tokens) or
                'transformer' (factorised temporal transformer)
  FRAMES        'all', or 'middle' (single-frame baseline: motion classes
                should drop to chance)
  ENCODER_INIT  'pretrained' (PRETRAIN_DIR) or 'random' (frozen random
                encoder baseline)
  VIDEO_SOURCE  'procedural' (moving shapes), 'frames' (DATA_DIR/<split>/
                <class>/<clip>/frame_*.png) or 'tfds' (TFDS_NAME)

  python -m vit22b_pax.main --job_log_dir=runs/video \
      --fdl_config=vit22b_pax.experiments.video.ProceduralVideoTiny \
      --fdl.PRETRAIN_DIR='"runs/pretrain"'
"""

from __future__ import annotations

from paxml import base_experiment
from paxml import experiment_registry
from praxis import pax_fiddle

from vit22b_pax.data import video as video_data
from vit22b_pax.data import video_real
from vit22b_pax.experiments import finetune
from vit22b_pax.experiments import pretrain
from vit22b_pax.models import video as video_model

ENCODER_EXCLUSION = r'.*params/network/.*'
ENCODER_LOAD_RULE = (r'params/network/(.*)', 'params/network/{}')
VIDEO_SOURCES = ('procedural', 'frames', 'tfds')
ENCODER_INITS = ('pretrained', 'random')


class VideoData(base_experiment.BaseExperiment):
  """Clip inputs (`video` [B, T, S, S, 3]) for the video experiments.

  A mixin: IMAGE_SIZE, NUM_CLASSES (must match the data; procedural:
  len(VIDEO_SHAPES) * len(MOTIONS)), BATCH_SIZE, EVAL_BATCH_SIZE,
  EVAL_EXAMPLES and DATA_SEED come from the experiment it is mixed into.
  """

  VIDEO_SOURCE = 'procedural'
  NUM_FRAMES = 8
  VIDEO_SHAPES = ('triangle', 'square', 'heart', 'cross')
  MOTIONS = ('left', 'right', 'clockwise', 'counterclockwise')
  DATA_DIR = None  # 'frames'
  TRAIN_SPLIT = 'train'
  EVAL_SPLIT = 'test'
  TFDS_NAME = None  # 'tfds'
  TFDS_DATA_DIR = None
  TFDS_VIDEO_KEY = 'video'
  TFDS_LABEL_KEY = 'label'

  def _check_video_data(self) -> None:
    if self.VIDEO_SOURCE not in VIDEO_SOURCES:
      raise ValueError(f'VIDEO_SOURCE={self.VIDEO_SOURCE!r}; expected one of '
                       f'{VIDEO_SOURCES}.')
    if self.VIDEO_SOURCE == 'procedural':
      k = len(self.VIDEO_SHAPES) * len(self.MOTIONS)
      if self.NUM_CLASSES != k:
        raise ValueError(
            f'NUM_CLASSES={self.NUM_CLASSES} but {len(self.VIDEO_SHAPES)} '
            f'VIDEO_SHAPES x {len(self.MOTIONS)} MOTIONS make {k} classes.')
    if self.VIDEO_SOURCE == 'frames' and not self.DATA_DIR:
      raise ValueError("VIDEO_SOURCE='frames' needs DATA_DIR (holding "
                       f'{self.TRAIN_SPLIT}/<class>/<clip>/frame_*.png).')
    if self.VIDEO_SOURCE == 'tfds' and not self.TFDS_NAME:
      raise ValueError("VIDEO_SOURCE='tfds' needs TFDS_NAME.")

  def _video_input(self, split: str, is_training: bool):
    common = dict(
        name='train' if is_training else split, is_training=is_training,
        num_frames=self.NUM_FRAMES, image_size=self.IMAGE_SIZE,
        num_classes=self.NUM_CLASSES, seed=self.DATA_SEED,
        batch_size=self.per_host_batch_size(
            None if is_training else self.EVAL_BATCH_SIZE or self.BATCH_SIZE))
    if not is_training:
      common.update(reset_for_eval=True, eval_loop_num_batches=-1)
    if self.VIDEO_SOURCE == 'procedural':
      return pax_fiddle.Config(
          video_data.VideoInput, split=split, shapes=tuple(self.VIDEO_SHAPES),
          motions=tuple(self.MOTIONS),
          num_examples=0 if is_training else self.EVAL_EXAMPLES, **common)
    if self.VIDEO_SOURCE == 'frames':
      return pax_fiddle.Config(video_real.FrameFolderInput,
                               root=self.DATA_DIR, split=split, **common)
    return pax_fiddle.Config(
        video_real.TfdsVideoInput, dataset_name=self.TFDS_NAME,
        data_dir=self.TFDS_DATA_DIR, split=split,
        video_key=self.TFDS_VIDEO_KEY, label_key=self.TFDS_LABEL_KEY,
        **common)

  def datasets(self):
    self._check_video_data()
    return [self._video_input(self.TRAIN_SPLIT, True),
            self._video_input(self.EVAL_SPLIT, False)]

  def get_input_specs_provider_params(self):
    return pax_fiddle.Config(
        video_data.VideoInputSpecsProvider, num_frames=self.NUM_FRAMES,
        image_size=self.IMAGE_SIZE, num_classes=self.NUM_CLASSES,
        batch_size=self.per_host_batch_size())


class VideoBase(VideoData, finetune.WarmStartBase):
  """Frozen per-frame encoder from a pretraining run + a temporal head."""

  LOSS = 'softmax'
  HEAD = 'map'
  FRAMES = 'all'
  ENCODER_INIT = 'pretrained'
  TEMPORAL_LAYERS = 1
  HEAD_REGEX = None
  LOAD_RULES = (ENCODER_LOAD_RULE,)
  EVAL_CONFLICT = False

  def _check(self) -> None:
    if self.ENCODER_INIT not in ENCODER_INITS:
      raise ValueError(f'ENCODER_INIT={self.ENCODER_INIT!r}; expected one of '
                       f'{ENCODER_INITS}.')

  def _network(self):
    # Exactly the source run's encoder (its posemb grid and pooling).
    return self._source()._network()  # pylint: disable=protected-access

  def _model(self):
    self._check()
    motions = len(self.MOTIONS) if self.VIDEO_SOURCE == 'procedural' else 0
    return video_model.video_classifier_config(
        self._network(), self.NUM_CLASSES, self.NUM_FRAMES, head=self.HEAD,
        frames=self.FRAMES, freeze_encoder=True, num_motions=motions,
        temporal_layers=self.TEMPORAL_LAYERS)

  def _learner(self):
    learner_p = super()._learner()
    learner_p.bprop_variable_exclusion = [ENCODER_EXCLUSION]
    return learner_p

  def _configure_task(self, task_p) -> None:
    super()._configure_task(task_p)
    if self.ENCODER_INIT == 'random':
      task_p.train.init_from_checkpoint_rules = {}

  def validate(self) -> None:
    self._check()
    if self.ENCODER_INIT == 'pretrained':
      super().validate()

  def flops_per_example(self) -> float:
    """Encoder forward on every used frame (a third of its training
    FLOPs) + the head's training FLOPs (6 per parameter per token)."""
    frames = 1 if self.FRAMES == 'middle' else self.NUM_FRAMES
    net = self._network()
    d = net.model_dims
    tokens = (self.IMAGE_SIZE // net.patch_size)**2
    head_tokens = frames * (tokens if self.HEAD == 'map' else 1)
    head_params = 12 * d * d * max(1, self.TEMPORAL_LAYERS)
    return (self._source().flops_per_example() / 3 * frames +
            6 * head_params * head_tokens)


@experiment_registry.register
class ProceduralVideoTiny(VideoBase, pretrain.ProceduralViT22BTiny):
  """Moving shapes, 8 frames of 32 px, 4 shapes x 4 motions (16 classes),
  on the frozen ProceduralViT22BTiny encoder; 400 steps of batch 32."""

  PRETRAIN_EXPERIMENT = pretrain.ProceduralViT22BTiny
  NUM_FRAMES = 8
  NUM_CLASSES = 16
  BATCH_SIZE = 32
  TRAIN_STEPS = 400
  LEARNING_RATE = 1e-3
  WARMUP_STEPS = 40
  COOLDOWN_STEPS = 100
  TIMESCALE = 1000
  WEIGHT_DECAY = 1e-4
  HEAD_WEIGHT_DECAY = 1e-4
  SUMMARY_INTERVAL_STEPS = 50
  EVAL_INTERVAL_STEPS = 200
  CHECKPOINT_EVERY_N_STEPS = 200
  EVAL_EXAMPLES = 512


@experiment_registry.register
class ProceduralVideoB16(VideoBase, pretrain.ProceduralViT22BB16):
  """Accelerator-sized: 16 frames of 224 px, 6 shapes x 6 motions (36
  classes), on the frozen ProceduralViT22BB16 encoder; global batch 256."""

  PRETRAIN_EXPERIMENT = pretrain.ProceduralViT22BB16
  NUM_FRAMES = 16
  VIDEO_SHAPES = video_data.VIDEO_SHAPES
  MOTIONS = video_data.MOTIONS
  NUM_CLASSES = 36
  BATCH_SIZE = 256
  TRAIN_STEPS = 5000
  LEARNING_RATE = 1e-3
  WARMUP_STEPS = 500
  COOLDOWN_STEPS = 1000
  TIMESCALE = 1000
  WEIGHT_DECAY = 1e-4
  HEAD_WEIGHT_DECAY = 1e-4
  EVAL_INTERVAL_STEPS = 1000
  EVAL_EXAMPLES = 2048


@experiment_registry.register
class ProceduralVideoSmoke(VideoBase, pretrain.ProceduralViT22BSmoke):
  """Seconds-long video run on ProceduralViT22BSmoke (16 px, 3 frames,
  2 shapes x 2 motions), for tests."""

  PRETRAIN_EXPERIMENT = pretrain.ProceduralViT22BSmoke
  NUM_FRAMES = 3
  VIDEO_SHAPES = ('triangle', 'square')
  MOTIONS = ('left', 'right')
  NUM_CLASSES = 4
  BATCH_SIZE = 8
  TRAIN_STEPS = 4
  EVAL_INTERVAL_STEPS = 4
  CHECKPOINT_EVERY_N_STEPS = 4
  EVAL_EXAMPLES = 16
