# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Registered segmentation and depth experiments on (frozen) features
(recipes: `fiddle_configs.dense`). The pretrained ones need the source run:
give it to the recipe,

  python -m vit22b_pax.main --job_log_dir=runs/seg \
      --fdl=config:fiddle_configs.dense.segmentation(size='tiny',pretrain_dir='runs/pretrain')
"""

from fiddle_configs import dense
from vit22b_pax.runtime import experiment


@experiment.register
class ProceduralSegLinearTiny(experiment.RecipeExperiment):
  """Linear decoder on the frozen tiny pretraining run (32 px scenes)."""
  RECIPE = dense.segmentation
  ARGS = {'size': 'tiny'}


@experiment.register
class ProceduralSegLinearRandomTiny(experiment.RecipeExperiment):
  """Linear decoder on a frozen randomly initialised tiny encoder."""
  RECIPE = dense.segmentation
  ARGS = {'size': 'tiny', 'backbone': 'random'}


@experiment.register
class ProceduralSegProgressiveTiny(experiment.RecipeExperiment):
  """Progressive multi-level decoder on the frozen tiny pretraining run."""
  RECIPE = dense.segmentation
  ARGS = {'size': 'tiny', 'decoder': 'progressive'}


@experiment.register
class ProceduralDepthDPTTiny(experiment.RecipeExperiment):
  """DPT depth decoder on the frozen tiny pretraining run."""
  RECIPE = dense.depth
  ARGS = {'size': 'tiny'}


@experiment.register
class ProceduralDepthDPTRandomTiny(experiment.RecipeExperiment):
  """DPT depth decoder on a frozen randomly initialised tiny encoder."""
  RECIPE = dense.depth
  ARGS = {'size': 'tiny', 'backbone': 'random'}


@experiment.register
class ProceduralDepthLinearTiny(experiment.RecipeExperiment):
  """Linear depth baseline on the frozen tiny pretraining run."""
  RECIPE = dense.depth
  ARGS = {'size': 'tiny', 'decoder': 'linear'}


@experiment.register
class ProceduralSegSmoke(experiment.RecipeExperiment):
  """Seconds-long segmentation (progressive decoder, random encoder)."""
  RECIPE = dense.segmentation
  ARGS = {'size': 'smoke', 'backbone': 'random', 'decoder': 'progressive'}


@experiment.register
class ProceduralDepthSmoke(experiment.RecipeExperiment):
  """Seconds-long depth job (linear decoder, random encoder)."""
  RECIPE = dense.depth
  ARGS = {'size': 'smoke', 'backbone': 'random', 'decoder': 'linear'}


@experiment.register
class ProceduralSegLinearB16(experiment.RecipeExperiment):
  """Linear segmentation on a frozen ViT-B/16 run, 224 px scenes."""
  RECIPE = dense.segmentation
  ARGS = {'size': 'b16'}


@experiment.register
class ProceduralDepthDPTB16(experiment.RecipeExperiment):
  """DPT depth on a frozen ViT-B/16 run, 224 px scenes."""
  RECIPE = dense.depth
  ARGS = {'size': 'b16'}


@experiment.register
class SceneParse150SegLinearB16(experiment.RecipeExperiment):
  """ADE20k (TFDS scene_parse150, 150 classes) linear decoder, 512 px."""
  RECIPE = dense.segmentation
  ARGS = {'size': 'b16', 'data': 'tfds'}


@experiment.register
class NyuDepthDPTB16(experiment.RecipeExperiment):
  """NYU depth v2 (TFDS) DPT decoder on a frozen ViT-B/16, 480x640."""
  RECIPE = dense.depth
  ARGS = {'size': 'b16', 'data': 'tfds'}


@experiment.register
class SceneParse150SegLinearPaper(experiment.RecipeExperiment):
  """ADE20k linear decoder on frozen ViT-22B/14 features (504 px)."""
  RECIPE = dense.segmentation
  ARGS = {'size': 'paper', 'data': 'tfds', 'image_size': 504}


@experiment.register
class NyuDepthDPTPaper(experiment.RecipeExperiment):
  """NYU depth v2 DPT decoder on frozen ViT-22B/14 features (476x630)."""
  RECIPE = dense.depth
  ARGS = {'size': 'paper', 'data': 'tfds', 'image_size': 476,
          'image_width': 630}
