# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Pretraining: the paper's JFT recipe, at paper scale and at CPU scale.

Multi-label sigmoid cross-entropy, the Adafactor variant (beta2 = min(0.999,
1 - t^-0.8), bf16 momentum 0.9, gradient-norm clip 1.0, decoupled weight decay
with a larger head multiplier) and the reciprocal-square-root schedule with
linear warm-up and cool-down (`vit22b_pax/optim`).

  python -m paxml.main \
      --exp=vit22b_pax.experiments.pretrain.ProceduralViT22BTiny \
      --job_log_dir=runs/pretrain
"""

from __future__ import annotations

from paxml import experiment_registry

from vit22b_pax.experiments import base
from vit22b_pax.experiments import data


class PretrainBase(base.ViT22BExperiment):
  """The paper's pretraining objective: multi-label sigmoid cross-entropy."""

  LOSS = 'sigmoid'


@experiment_registry.register(tags=['smoke_test_abstract_init'])
class ViT22BPaper(data.TfdsData, PretrainBase):
  """ViT-22B/14 as in the paper: 224 px (256 tokens), global batch 65,536,
  177k steps, peak LR 1e-3 (10k warm-up, 30k cool-down), head WD 3.0, body WD
  0.01, on 1024 TPU v4 chips as ICI mesh [1, 64, 16] (replica, data, mdl):
  weights FSDP over data and tensor-parallel over mdl.

  JFT-4B is internal to Google: point TFDS_NAME / TFDS_DATA_DIR / NUM_CLASSES
  at your own prepared multi-label data set (the defaults name ImageNet-1k).
  """

  VARIANT = '22B/14'
  IMAGE_SIZE = 224
  NUM_CLASSES = 1000
  TFDS_NAME = 'imagenet2012'
  BATCH_SIZE = 65_536
  TRAIN_STEPS = 177_000
  SCAN = True
  REMAT_POLICY = 'save_nothing'
  FPROP_DTYPE = 'bfloat16'
  ICI_MESH_SHAPE = [1, 64, 16]
  INCEPTION_CROP = True
  FLIP = True


@experiment_registry.register
class ProceduralViT22BB16(data.ProceduralData, PretrainBase):
  """ViT-B/16 with the ViT-22B block at 224 px on the procedural data
  (accelerator-sized: global batch 1024)."""

  VARIANT = 'B/16'
  IMAGE_SIZE = 224
  NUM_CLASSES = 8
  BATCH_SIZE = 1024
  TRAIN_STEPS = 20_000
  WARMUP_STEPS = 1000
  COOLDOWN_STEPS = 2000
  TIMESCALE = 1000
  EVAL_INTERVAL_STEPS = 1000


@experiment_registry.register
class ProceduralViT22BTiny(data.ProceduralData, PretrainBase):
  """The default job (`make train`): a 4-layer, 128-wide ViT-22B-block model
  on 32 px procedural images (patch 8: 16 tokens), 8 shape classes, global
  batch 64, 2000 steps; a few minutes on a 2-core CPU.

  GAP pooling rather than the paper's MAP head: at this size and budget MAP
  learned more slowly in our runs (test top-1 0.25 vs 0.30 after 150 steps,
  one seed); the MAP head is one override away (`--fdl.POOLING="'map'"`).
  """

  VARIANT = 'Ti/16'
  MODEL_DIMS = 128
  NUM_LAYERS = 4
  HIDDEN_DIMS = 512
  NUM_HEADS = 4
  PATCH_SIZE = 8
  IMAGE_SIZE = 32
  POOLING = 'gap'
  NUM_CLASSES = 8
  BATCH_SIZE = 64
  TRAIN_STEPS = 2000
  LEARNING_RATE = 1e-3
  WARMUP_STEPS = 100
  COOLDOWN_STEPS = 300
  TIMESCALE = 1000
  WEIGHT_DECAY = 1e-4
  HEAD_WEIGHT_DECAY = 1e-3
  SUMMARY_INTERVAL_STEPS = 100
  EVAL_INTERVAL_STEPS = 500
  CHECKPOINT_EVERY_N_STEPS = 500
  EVAL_EXAMPLES = 512


@experiment_registry.register
class ProceduralViT22BSmoke(ProceduralViT22BTiny):
  """Seconds-long variant for tests: 2 layers, 32 wide, 16 px, 6 steps."""

  MODEL_DIMS = 32
  NUM_LAYERS = 2
  HIDDEN_DIMS = 64
  NUM_HEADS = 2
  IMAGE_SIZE = 16
  BATCH_SIZE = 16
  TRAIN_STEPS = 6
  WARMUP_STEPS = 2
  COOLDOWN_STEPS = 2
  TIMESCALE = 2
  SUMMARY_INTERVAL_STEPS = 2
  EVAL_INTERVAL_STEPS = 3
  CHECKPOINT_EVERY_N_STEPS = 3
  EVAL_EXAMPLES = 32


@experiment_registry.register
class FashionMnistViT22BTiny(data.FashionMnistData, ProceduralViT22BTiny):
  """The tiny model on real images: Fashion-MNIST at 28 px (patch 4: 49
  tokens), 10 classes, 1000 steps."""

  PATCH_SIZE = 4
  IMAGE_SIZE = 28
  TRAIN_STEPS = 1000
  COOLDOWN_STEPS = 200


@experiment_registry.register
class CueConflict16Smoke(data.ImageFolderData, ProceduralViT22BSmoke):
  """A tiny ViT-22B model with a native 16-way head over the 16 cue-conflict
  categories, for exercising `tools/run_stimuli` end to end on the real
  stimuli. Its "training data" is the stimuli folder itself, so it takes one
  step at learning rate 0: the checkpoint is a randomly initialised model
  (head not zero-initialised, so its decisions are not all ties):

    python -m vit22b_pax.main --exp=vit22b_pax.experiments.pretrain.CueConflict16Smoke \
        --job_log_dir=runs/cue16
    python -m vit22b_pax.tools.run_stimuli \
        --exp=vit22b_pax.experiments.pretrain.CueConflict16Smoke \
        --job_log_dir=runs/cue16 --stimuli ../shared/data/cue-conflict \
        --out runs/cue16/responses.csv --humans ../shared/data/human-responses \
        --plot runs/cue16/shape_bias.png
  """

  DATA_DIR = '../shared/data'
  TRAIN_SPLIT = 'cue-conflict'
  EVAL_SPLIT = 'cue-conflict'
  NUM_CLASSES = 16
  IMAGE_SIZE = 32
  HEAD_ZERO_INIT = False
  TRAIN_STEPS = 1
  LEARNING_RATE = 0.0
  WARMUP_STEPS = 0
  COOLDOWN_STEPS = 0
  EVAL_INTERVAL_STEPS = 0
  CHECKPOINT_EVERY_N_STEPS = 1
