# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Pretraining with ring collective matmuls (ViT-22B "asynchronous parallel
linear operations") on a (replica, data, mdl) = [1, 2, 4] mesh, and its twin
with XLA's default partitioning. Same parameters and checkpoints either way.

Every block's input matmul (QKV + MLP-in, fused) becomes an all-gather-matmul
and its output matmul (attention-out + MLP-out) a matmul-reduce-scatter
(`vit22b_pax.layers.collective_einsum`, mode 'auto').

  python -m paxml.main \
      --exp=vit22b_pax.experiments.collective.ProceduralViT22BTinyCollective \
      --job_log_dir=runs/collective
  (XLA_FLAGS=--xla_force_host_platform_device_count=8 on a CPU host)
"""

from __future__ import annotations

from paxml import experiment_registry
from praxis import pax_fiddle

from vit22b_pax.experiments import pretrain
from vit22b_pax.layers import collective_einsum


class CollectiveMatmulMixin:
  """Switches the encoder's block matmuls to ring collective matmuls.

  Constants: COLLECTIVE_MATMUL (on/off), COLLECTIVE_KINDS (which block
  einsums: 'in', 'out'), COLLECTIVE_MODE ('auto' | 'all_gather' |
  'reduce_scatter', or {kind: mode}), COLLECTIVE_BIDIRECTIONAL.
  """

  COLLECTIVE_MATMUL = True
  COLLECTIVE_KINDS = ('in', 'out')
  COLLECTIVE_MODE = 'auto'
  COLLECTIVE_BIDIRECTIONAL = False
  ICI_MESH_SHAPE = [1, 2, 4]

  def _network(self) -> pax_fiddle.Config:
    p = super()._network()  # pytype: disable=attribute-error
    if self.COLLECTIVE_MATMUL:
      collective_einsum.enable_collective_matmul(
          p, kinds=self.COLLECTIVE_KINDS, mode=self.COLLECTIVE_MODE,
          bidirectional=self.COLLECTIVE_BIDIRECTIONAL)
    return p


@experiment_registry.register
class ProceduralViT22BTinyCollective(CollectiveMatmulMixin,
                                     pretrain.ProceduralViT22BTiny):
  """The tiny pretraining job, tensor-parallel over 4 devices with ring
  collective matmuls (8 devices: [1, 2, 4])."""


@experiment_registry.register
class ProceduralViT22BTinyCollectiveOff(ProceduralViT22BTinyCollective):
  """Its twin: same mesh, XLA's default partitioning of the matmuls."""

  COLLECTIVE_MATMUL = False


@experiment_registry.register
class ProceduralViT22BSmokeCollective(CollectiveMatmulMixin,
                                      pretrain.ProceduralViT22BSmoke):
  """Seconds-long test variant: 4 heads (divisible by mdl = 4), the loss
  summarized every step, no mid-run eval."""

  NUM_HEADS = 4
  TRAIN_STEPS = 4
  SUMMARY_INTERVAL_STEPS = 1
  EVAL_INTERVAL_STEPS = 100
  CHECKPOINT_EVERY_N_STEPS = 100


@experiment_registry.register
class ProceduralViT22BSmokeCollectiveOff(ProceduralViT22BSmokeCollective):
  """Its twin with XLA's default partitioning."""

  COLLECTIVE_MATMUL = False
