# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Registered pretraining experiments (recipe: `fiddle_configs.pretrain`).

  python -m paxml.main --exp=vit22b_pax.experiments.pretrain.ProceduralTiny \
      --job_log_dir=runs/pretrain
"""

from fiddle_configs import pretrain
from vit22b_pax.runtime import experiment


@experiment.register(tags=['smoke_test_abstract_init'])
class ViT22BPaper(experiment.RecipeExperiment):
  """ViT-22B/14 as in the paper: 224 px, global batch 65,536, 177k steps,
  sigmoid loss, bf16, mesh [1, 64, 16] (FSDP over data, tensor parallel over
  mdl). JFT-4B is internal: point tfds_name / data_dir / num_classes at your
  own prepared multi-label TFDS data (default: ImageNet-1k)."""
  RECIPE = pretrain.pretrain
  ARGS = {'size': 'paper', 'data': 'tfds'}


@experiment.register
class ProceduralB16(experiment.RecipeExperiment):
  """ViT-B/16 with the ViT-22B block on 224 px procedural images, batch 1024
  (one accelerator)."""
  RECIPE = pretrain.pretrain
  ARGS = {'size': 'b16'}


@experiment.register
class ProceduralTiny(experiment.RecipeExperiment):
  """The default job (`make train`): 4 x 128 model, 32 px procedural images
  (patch 8), 8 shape classes, batch 64, 2000 steps; CPU minutes."""
  RECIPE = pretrain.pretrain
  ARGS = {'size': 'tiny'}


@experiment.register
class FashionMnistTiny(experiment.RecipeExperiment):
  """The tiny model on real images: Fashion-MNIST at 28 px (patch 4)."""
  RECIPE = pretrain.pretrain
  ARGS = {'size': 'tiny', 'data': 'fashion_mnist'}


@experiment.register
class ProceduralTinyCollective(experiment.RecipeExperiment):
  """The tiny job tensor-parallel over 4 devices with ring collective
  matmuls, mesh [1, 2, 4] (8 devices; on CPU set
  XLA_FLAGS=--xla_force_host_platform_device_count=8)."""
  RECIPE = pretrain.pretrain
  ARGS = {'size': 'tiny', 'mesh': (1, 2, 4), 'collective_matmul': 'auto'}


@experiment.register
class CueConflict16Untrained(experiment.RecipeExperiment):
  """A randomly initialised small model with a native 16-way head over the
  cue-conflict categories, to run `tools/run_stimuli` end to end on the real
  stimuli (one step at learning rate 0: the checkpoint is the random init)."""
  RECIPE = pretrain.pretrain
  ARGS = {'size': 'smoke', 'data': 'image_folder',
          'data_dir': '../shared/data', 'train_split': 'cue-conflict',
          'eval_split': 'cue-conflict', 'num_classes': 16, 'image_size': 32,
          'steps': 1, 'learning_rate': 0.0, 'head_zero_init': False}
