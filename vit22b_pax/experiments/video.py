# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Registered video experiments (recipe: `fiddle_configs.video`). They need
the pretraining run; give it to the recipe,

  python -m vit22b_pax.main --job_log_dir=runs/video \
      --fdl=config:fiddle_configs.video.video(size='tiny',pretrain_dir='runs/pretrain')
"""

from fiddle_configs import video
from vit22b_pax.runtime import experiment


@experiment.register
class ProceduralVideoTiny(experiment.RecipeExperiment):
  """Moving shapes (8 frames of 32 px, 4 shapes x 4 motions) on the frozen
  tiny pretraining encoder; MAP over all frames x tokens."""
  RECIPE = video.video
  ARGS = {'size': 'tiny'}


@experiment.register
class ProceduralVideoTinyTransformer(experiment.RecipeExperiment):
  """As ProceduralVideoTiny with the factorised temporal transformer head
  over per-frame embeddings."""
  RECIPE = video.video
  ARGS = {'size': 'tiny', 'head': 'transformer'}


@experiment.register
class ProceduralVideoTinySingleFrame(experiment.RecipeExperiment):
  """Baseline: the ProceduralVideoTiny head on the middle frame only."""
  RECIPE = video.video
  ARGS = {'size': 'tiny', 'frames': 'middle'}


@experiment.register
class ProceduralVideoTinyRandomEncoder(experiment.RecipeExperiment):
  """Baseline: the ProceduralVideoTiny head on a frozen randomly initialised
  encoder (no checkpoint needed)."""
  RECIPE = video.video
  ARGS = {'size': 'tiny', 'encoder_init': 'random'}


@experiment.register
class ProceduralVideoB16(experiment.RecipeExperiment):
  """Accelerator-sized: 16 frames of 224 px, 6 shapes x 6 motions, on the
  frozen b16 pretraining encoder, 256 clips per step."""
  RECIPE = video.video
  ARGS = {'size': 'b16'}
