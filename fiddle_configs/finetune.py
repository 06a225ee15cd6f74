# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fiddle builders for fine-tuning and linear probing.

  python -m paxml.main --job_log_dir=runs/probe \
      --fdl=config:fiddle_configs.finetune.linear_probe_tiny(PRETRAIN_DIR="runs/pretrain")
"""

from fiddle_configs import common
from vit22b_pax.experiments import finetune


def finetune_tiny(**constants):
  """ProceduralFinetuneTiny (set PRETRAIN_DIR)."""
  return common.experiment_config(finetune.ProceduralFinetuneTiny, **constants)


def linear_probe_tiny(**constants):
  """ProceduralLinearProbeTiny (set PRETRAIN_DIR)."""
  return common.experiment_config(finetune.ProceduralLinearProbeTiny,
                                  **constants)


def fashion_mnist_linear_probe_tiny(**constants):
  """FashionMnistLinearProbeTiny (set PRETRAIN_DIR)."""
  return common.experiment_config(finetune.FashionMnistLinearProbeTiny,
                                  **constants)
