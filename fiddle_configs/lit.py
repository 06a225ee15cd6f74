# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fiddle builders for LiT.

  python -m paxml.main --job_log_dir=runs/lit \
      --fdl=config:fiddle_configs.lit.lit_tiny(PRETRAIN_DIR="runs/pretrain")
"""

from fiddle_configs import common
from vit22b_pax.experiments import lit


def lit_tiny(**constants):
  """ProceduralLiTTiny (set PRETRAIN_DIR to the image tower's run)."""
  return common.experiment_config(lit.ProceduralLiTTiny, **constants)
