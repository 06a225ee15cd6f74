# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Semantic segmentation and monocular depth on (frozen) ViT-22B features.

The paper's frozen-feature evaluation: a pretraining checkpoint's encoder
hands out the patch tokens of four evenly spaced blocks
(`ViT22BEncoder.features`) and only a thin decoder trains
(`vit22b_pax.models.dense`). BACKBONE selects the backbone:

  'pretrained' warm-start the encoder from PRETRAIN_DIR and freeze it: it is
               excluded from the learner (no update, no optimizer state, no
               weight decay: bit for bit the checkpoint) and its features
               carry no gradient;
  'random'     the same frozen encoder at its random initialisation (no
               PRETRAIN_DIR): the baseline the pretrained features must beat;
  'trained'    warm-start from PRETRAIN_DIR and train the encoder too.

The position embedding keeps the pretraining grid and is resampled to the
dense resolution at run time.
"""

from __future__ import annotations

from paxml import experiment_registry
from praxis import pax_fiddle

from vit22b_pax.data import dense_inputs
from vit22b_pax.eval import dense_program
from vit22b_pax.experiments import finetune
from vit22b_pax.experiments import pretrain
from vit22b_pax.layers import decoders
from vit22b_pax.layers import dpt
from vit22b_pax.layers import encoder as encoder_lib
from vit22b_pax.layers import variants
from vit22b_pax.models import dense as dense_model
from vit22b_pax.perf import flops

BACKBONES = ('pretrained', 'random', 'trained')
DECODERS = ('linear', 'progressive', 'dpt')


class DenseProceduralData:
  """Procedural scenes (`dense_inputs.DenseProceduralInput`): train and test
  streams, every image with its class and depth maps."""

  IMAGE_SIZE = 32
  IMAGE_WIDTH = 0  # 0: square.
  NUM_CLASSES = 9  # Background + 8 shape kinds.
  BATCH_SIZE = 64
  EVAL_BATCH_SIZE = None
  EVAL_EXAMPLES = 512
  DATA_SEED = 0  # The test set (and the train stream unless set below).
  TRAIN_DATA_SEED = None  # None: DATA_SEED.
  MIN_SHAPES = 1
  MAX_SHAPES = 3
  SCENE_STYLE = 'grey'
  SHAPE_SCALE = 1.6
  SHAPE_DEPTH = (1.5, 4.5)
  FLIP = False

  def _dense_input(self, split, is_training, **kwargs):
    seed = self.DATA_SEED
    if is_training and self.TRAIN_DATA_SEED is not None:
      seed = self.TRAIN_DATA_SEED
    return pax_fiddle.Config(
        dense_inputs.DenseProceduralInput, name=split, split=split,
        is_training=is_training, num_classes=self.NUM_CLASSES,
        image_size=self.IMAGE_SIZE, image_width=self.IMAGE_WIDTH,
        min_shapes=self.MIN_SHAPES, max_shapes=self.MAX_SHAPES,
        style=self.SCENE_STYLE, shape_scale=self.SHAPE_SCALE,
        shape_depth=tuple(self.SHAPE_DEPTH), seed=seed, **kwargs)

  def datasets(self):
    eval_batch = self.per_host_batch_size(self.EVAL_BATCH_SIZE or
                                          self.BATCH_SIZE)
    return [
        self._dense_input('train', True,
                          batch_size=self.per_host_batch_size(),
                          flip=self.FLIP),
        self._dense_input('test', False, batch_size=eval_batch,
                          num_examples=self.EVAL_EXAMPLES,
                          reset_for_eval=True, eval_loop_num_batches=-1)]

  def get_input_specs_provider_params(self):
    return pax_fiddle.Config(
        dense_inputs.DenseInputSpecsProvider, image_size=self.IMAGE_SIZE,
        image_width=self.IMAGE_WIDTH, batch_size=self.per_host_batch_size())


class DenseBase(finetune.WarmStartBase):
  """Encoder (from a pretraining experiment) + dense decoder."""

  TASK = 'segmentation'
  DECODER = 'linear'
  BACKBONE = 'pretrained'
  FEATURE_LAYERS = None  # None: 4 evenly spaced blocks (DPT's choice).
  HIDDEN_DIMS_DECODER = 64  # ProgressiveDecoder channels.
  REASSEMBLE_DIMS = (96, 192, 384, 768)  # DPT.
  FUSION_DIMS = 256  # DPT.
  DPT_HEAD_DIMS = 32
  DEPTH_LOSS = 'silog'
  SILOG_LAMBDA = 0.85
  DEPTH_INIT = 3.0
  MIN_DEPTH = 1e-3
  MAX_DEPTH = 10.0
  POSEMB_GRID = None  # Pretraining patch grid; None: from the source.
  HEAD_REGEX = r'params/decoder/.*'
  LOAD_RULES = ((r'params/network/(.*)', 'params/network/{}'),)
  TRAINABLE_REGEX = r'.*/decoder/.*'
  WEIGHT_DECAY = 1e-4
  HEAD_WEIGHT_DECAY = 1e-4  # Decoder layers named 'head' get this rate.

  def _check_backbone(self) -> None:
    if self.BACKBONE not in BACKBONES:
      raise ValueError(f'Unknown BACKBONE={self.BACKBONE!r}; expected one of '
                       f'{BACKBONES}.')
    if self.DECODER not in DECODERS:
      raise ValueError(f'Unknown DECODER={self.DECODER!r}; expected one of '
                       f'{DECODERS}.')
    if self.BACKBONE == 'random' and self.PRETRAIN_DIR:
      raise ValueError("BACKBONE='random' trains on a randomly initialised "
                       f'encoder; unset PRETRAIN_DIR={self.PRETRAIN_DIR!r}.')

  def _feature_layers(self) -> tuple[int, ...]:
    if self.FEATURE_LAYERS is not None:
      return tuple(self.FEATURE_LAYERS)
    depth = self._network_base().num_layers
    return encoder_lib.evenly_spaced_layers(depth, min(4, depth))

  def _network_base(self) -> pax_fiddle.Config:
    return super()._network()

  def _network(self) -> pax_fiddle.Config:
    net = self._network_base()
    source = self._source()
    grid = self.POSEMB_GRID or (
        source.IMAGE_SIZE // (source.PATCH_SIZE or self.PATCH_SIZE),) * 2
    net.pos_emb_grid = tuple(grid)
    net.feature_layers = self._feature_layers()
    return net

  def _decoder(self) -> pax_fiddle.Config:
    if self.DECODER == 'linear':
      return pax_fiddle.Config(decoders.LinearDecoder)
    if self.DECODER == 'progressive':
      return pax_fiddle.Config(decoders.ProgressiveDecoder,
                               num_features=len(self._feature_layers()),
                               hidden_dims=self.HIDDEN_DIMS_DECODER)
    return pax_fiddle.Config(dpt.DPTDecoder,
                             reassemble_dims=tuple(self.REASSEMBLE_DIMS),
                             fusion_dims=self.FUSION_DIMS,
                             head_dims=self.DPT_HEAD_DIMS)

  def _model(self) -> pax_fiddle.Config:
    self._check_backbone()
    return dense_model.dense_model_config(
        self._network(), self._decoder(), self.TASK,
        num_classes=self.NUM_CLASSES,
        freeze_encoder=self.BACKBONE != 'trained',
        depth_loss=self.DEPTH_LOSS, silog_lambda=self.SILOG_LAMBDA,
        depth_init=self.DEPTH_INIT, min_depth=self.MIN_DEPTH,
        max_depth=self.MAX_DEPTH)

  def _learner(self):
    learner_p = super()._learner()
    if self.BACKBONE != 'trained':
      learner_p.bprop_variable_inclusion = [self.TRAINABLE_REGEX]
    return learner_p

  def _configure_task(self, task_p) -> None:
    self._check_backbone()
    if self.BACKBONE != 'random' and not self.PRETRAIN_DIR:
      raise ValueError(
          f"BACKBONE={self.BACKBONE!r} needs PRETRAIN_DIR (a pretraining "
          f"job_log_dir of {self._source_name()}); or use BACKBONE='random'.")
    super()._configure_task(task_p)

  def _source_name(self) -> str:
    exp = self.PRETRAIN_EXPERIMENT
    return exp if isinstance(exp, str) else exp.__name__

  def validate(self) -> None:
    if self.BACKBONE == 'random':
      return
    super().validate()

  def eval_programs(self):
    """Eval programs that report the pooled (whole-set) dense metrics."""
    return [dense_program.PooledMetricsEvalProgram(input_p)
            for input_p in self.eval_datasets()]

  def flops_per_example(self) -> float:
    """The encoder's training FLOPs per image (a third when frozen: forward
    only); the decoder is not counted."""
    net = self._network()
    size = variants.Variant('custom', net.model_dims, net.num_layers,
                            net.hidden_dims, net.num_heads)
    total = flops.vit_flops((size, net.patch_size), self.IMAGE_SIZE,
                            num_classes=0,
                            parallel=self.PARALLEL).per_image
    return total if self.BACKBONE == 'trained' else total / 3.0


class DenseTinyRun:
  """Run length of the CPU-sized dense jobs."""

  TRAIN_STEPS = 600
  LEARNING_RATE = 1e-2
  WARMUP_STEPS = 50
  COOLDOWN_STEPS = 150
  TIMESCALE = 1000
  SUMMARY_INTERVAL_STEPS = 100
  EVAL_INTERVAL_STEPS = 300
  CHECKPOINT_EVERY_N_STEPS = 300


@experiment_registry.register
class ProceduralSegLinearTiny(DenseTinyRun, DenseProceduralData, DenseBase,
                              pretrain.ProceduralViT22BTiny):
  """Linear decoder on ProceduralViT22BTiny features, 64 px scenes."""

  TASK = 'segmentation'
  DECODER = 'linear'


@experiment_registry.register
class ProceduralDepthDPTTiny(DenseTinyRun, DenseProceduralData, DenseBase,
                             pretrain.ProceduralViT22BTiny):
  """DPT depth decoder on ProceduralViT22BTiny features, 64 px scenes."""

  TASK = 'depth'
  DECODER = 'dpt'
  REASSEMBLE_DIMS = (16, 32, 64, 64)
  FUSION_DIMS = 32
  DPT_HEAD_DIMS = 16


@experiment_registry.register
class ProceduralSegSmoke(DenseProceduralData, DenseBase,
                         pretrain.ProceduralViT22BSmoke):
  """Seconds-long segmentation job for tests."""

  PRETRAIN_EXPERIMENT = pretrain.ProceduralViT22BSmoke
  IMAGE_SIZE = 16
  BATCH_SIZE = 8
  EVAL_EXAMPLES = 16
  TRAIN_STEPS = 4
  DECODER = 'progressive'
  HIDDEN_DIMS_DECODER = 8
