# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ViT-22B sharding: 2-D (FSDP x tensor-parallel) weights, as in the paper.

One function sets every `WeightSharding` / `ActivationSharding` field of a
`ViT22BEncoder` config (block template and MAP head included):

  weights      d (model dims) on 'data' (FSDP), n / f (heads, MLP hidden) on
               'mdl' (tensor parallel):
               block  dnh=(data, mdl, -)  nhd=(mdl, -, data)
                      df=(data, mdl)      fd=(mdl, data)
               stem   pqcd=(-, -, -, mdl) posemb td=(-, mdl)
               norms, output biases, probe, CLS: replicated.
  activations  batch on ('replica', 'data'), hidden dim on 'mdl':
               images bhwc=(batch, -, -, -)
               btd=(batch, -, mdl)  btnh=(batch, -, mdl, -)
               bnts=(batch, mdl, -, -)  btf=(batch, -, mdl)  bd=(batch, mdl)

Sharding N over 'mdl' keeps each device's slice of the fused weights
self-contained (whole heads + their MLP columns), see `parallel_block`. The
block's part of the layout is `vit22b_pax.core.tensor_parallel.block_splits`
(shared with the pure-JAX path).
"""

from __future__ import annotations

from typing import Sequence

from praxis import pax_fiddle

from vit22b_pax.core import tensor_parallel
from vit22b_pax.layers import encoder as encoder_lib

MESH_AXIS_NAMES = ('replica', 'data', 'mdl')


def set_sharding(
    encoder_p: pax_fiddle.Config[encoder_lib.ViT22BEncoder],
    mesh_axis_names: Sequence[str] = MESH_AXIS_NAMES,
    ici_mesh_shape: Sequence[int] | None = None,
    dcn_mesh_shape: Sequence[int] | None = None,
) -> pax_fiddle.Config[encoder_lib.ViT22BEncoder]:
  """Sets the ViT-22B sharding annotations on an encoder config, in place.

  Args:
    encoder_p: pax_fiddle.Config of `ViT22BEncoder`.
    mesh_axis_names: (replica, data, model) axis names, in that order.
    ici_mesh_shape: optional mesh shape to set on the encoder (inside a Pax
      model it is usually inherited from `task_p.model`).
    dcn_mesh_shape: optional DCN mesh shape, likewise.

  Returns:
    encoder_p (mutated).

  Raises:
    ValueError: mesh_axis_names does not have 3 names or shapes mismatch.
  """
  names = tuple(mesh_axis_names)
  if len(names) != 3:
    raise ValueError(f'mesh_axis_names must be (replica, data, model); got '
                     f'{names} ({len(names)} names).')
  for shape in (ici_mesh_shape, dcn_mesh_shape):
    if shape is not None and len(shape) != 3:
      raise ValueError(f'Mesh shape {list(shape)} must have 3 dims to match '
                       f'{names}.')
  replica, data, mdl = names
  batch = (replica, data)
  encoder_p.mesh_axis_names = list(names)
  if ici_mesh_shape is not None:
    encoder_p.ici_mesh_shape = list(ici_mesh_shape)
  if dcn_mesh_shape is not None:
    encoder_p.dcn_mesh_shape = list(dcn_mesh_shape)

  wp = encoder_p.weight_split_dims_mapping
  wp.pqcd = (None, None, None, mdl)
  wp.td = (None, mdl)
  ap = encoder_p.activation_split_dims_mapping
  ap.bhwc = (batch, None, None, None)
  ap.btd = (batch, None, mdl)
  ap.bd = (batch, mdl)

  weights, acts = tensor_parallel.block_splits(data, mdl, batch)
  for layer_p in (encoder_p.block_tpl, encoder_p.map_head_tpl):
    for key, split in weights.items():
      setattr(layer_p.weight_split_dims_mapping, key, split)
  for kind, split in acts.items():
    setattr(encoder_p.block_tpl.activation_split_dims_mapping, kind, split)
  return encoder_p
