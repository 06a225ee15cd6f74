# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Registered fine-tuning and linear-probe experiments
(recipes: `fiddle_configs.finetune`). They need the source run: give it to
the recipe,

  python -m paxml.main --job_log_dir=runs/probe \
      --fdl=config:fiddle_configs.finetune.linear_probe(size='tiny',pretrain_dir='runs/pretrain')
"""

from fiddle_configs import finetune
from vit22b_pax.runtime import experiment


@experiment.register
class ProceduralFinetuneTiny(experiment.RecipeExperiment):
  """Fine-tunes the tiny pretraining run at 48 px (posemb 4x4 -> 6x6), new
  zero-initialised softmax head."""
  RECIPE = finetune.finetune
  ARGS = {'size': 'tiny', 'image_size': 48}


@experiment.register
class ProceduralLinearProbeTiny(experiment.RecipeExperiment):
  """Linear probe on frozen features of the tiny pretraining run."""
  RECIPE = finetune.linear_probe
  ARGS = {'size': 'tiny'}


@experiment.register
class FashionMnistLinearProbeTiny(experiment.RecipeExperiment):
  """Linear probe of the Fashion-MNIST tiny pretraining run."""
  RECIPE = finetune.linear_probe
  ARGS = {'size': 'tiny', 'data': 'fashion_mnist'}
