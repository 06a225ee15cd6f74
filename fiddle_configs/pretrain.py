# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fiddle builders for the pretraining experiments.

  python -m paxml.main --job_log_dir=runs/pretrain \
      --fdl=config:fiddle_configs.pretrain.procedural_tiny \
      --fdl=set:task.train.num_train_steps=300
"""

from fiddle_configs import common
from vit22b_pax.experiments import pretrain


def procedural_tiny(**constants):
  """ProceduralViT22BTiny (the default `make train` job)."""
  return common.experiment_config(pretrain.ProceduralViT22BTiny, **constants)


def procedural_smoke(**constants):
  """ProceduralViT22BSmoke (seconds-long, for tests)."""
  return common.experiment_config(pretrain.ProceduralViT22BSmoke, **constants)


def procedural_b16(**constants):
  """ProceduralViT22BB16 (ViT-B/16, 224 px; accelerator-sized)."""
  return common.experiment_config(pretrain.ProceduralViT22BB16, **constants)


def fashion_mnist_tiny(**constants):
  """FashionMnistViT22BTiny (real images from dataset-fashion-mnist)."""
  return common.experiment_config(pretrain.FashionMnistViT22BTiny, **constants)


def paper(**constants):
  """ViT22BPaper: ViT-22B/14 at paper scale."""
  return common.experiment_config(pretrain.ViT22BPaper, **constants)
