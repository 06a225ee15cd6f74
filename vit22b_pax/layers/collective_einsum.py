# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Collective-matmul einsum op for praxis `einsum_tpl` hooks.

`CollectiveEinsumOp` replaces `praxis.layers.base_ops.EinsumOp` in any layer
that takes an `einsum_tpl` (praxis `linears.Linear`,
`attentions.AttentionProjection`, `ViT22BBlock.in_einsum_tpl` /
`out_einsum_tpl`). It runs `y = einsum(eqn, x, w)` as a `shard_map` over the
ambient Pax mesh with the ring algorithms of `collective_matmul`, so the
model-axis collective overlaps the matmul ("asynchronous parallel linear
operations", ViT-22B §3). It creates no variables: checkpoints are the same
with it on or off.

The form (all-gather-matmul or matmul-reduce-scatter) follows the weight's
actual split, which `ViT22BBlock` and `CollectiveLinear` pass from their
`WeightSharding` (see `vit22b_pax.core.tensor_parallel`, which also holds
the planning and the shard_map wrapper): the model axis on an output dim of
w means all-gather, on a contracted dim reduce-scatter, on none a plain
einsum; an explicit `mode` that contradicts the split is an error, never a
silent reshard. Layers that pass no split get the size rule of 'auto'.
For the ViT-22B block as `vit22b_pax.layers.sharding` shards it, every
in-einsum ('md,dk->mk', w (data, mdl)) is an all-gather-matmul and every
out-einsum ('mk,kd->md', w (mdl, data)) a matmul-reduce-scatter, fused and
unfused alike.

With no mesh, one device, or a model axis of size 1, and during `init`
(variables never depend on it), it is a plain `jnp.einsum`.

`enable_collective_matmul(encoder_p, mode=..., bidirectional=...)` switches
a config tree: 'off' (unchanged), 'auto' (every block matmul as a ring),
'all_gather' / 'reduce_scatter' (only the matmuls of that form as rings, the
others left to XLA).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import jax
from jax import numpy as jnp
from jax.interpreters import pxla
from praxis import base_layer
from praxis import pax_fiddle
from praxis import py_utils
from praxis import pytypes
from praxis.layers import base_ops
from praxis.layers import linears

from vit22b_pax.core import tensor_parallel

JTensor = pytypes.JTensor
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
template_field = base_layer.template_field

MODES = tensor_parallel.MODES
FORMS = tensor_parallel.FORMS
ENABLE_MODES = ('off', 'auto', 'all_gather', 'reduce_scatter')
Plan = tensor_parallel.Plan
expand_ellipsis = tensor_parallel.expand_ellipsis
plan_einsum = tensor_parallel.plan_einsum
collective_einsum = tensor_parallel.collective_einsum


def ambient_mesh() -> jax.sharding.Mesh | None:
  """The Pax/pjit mesh of the enclosing `with mesh:` block, or None."""
  if not py_utils.global_mesh_defined():
    return None
  return pxla.thread_resources.env.physical_mesh


class CollectiveEinsumOp(base_ops.EinsumOp):
  """EinsumOp computing weight matmuls as overlapped ring collectives.

  Attributes:
    mode: 'auto' (the form the weight's split implies; without one, the
      smaller side travels), 'all_gather' (x blocks travel; w
      column-parallel) or 'reduce_scatter' (partial sums travel; w
      row-parallel). An explicit mode that contradicts the split a layer
      passes raises ValueError.
    bidirectional: send blocks both ways round the ring (about half the
      steps, both links busy).
    model_axis: mesh axis of the ring (tensor parallelism).
    batch_axes: mesh axes that shard the batch dim of x.
    accum_dtype: dtype of the travelling reduce-scatter partial sums (e.g.
      'float32' for bfloat16 models); None = the operands' dtype.
    forms: the forms run as rings; einsums planned to another form are left
      to XLA's partitioner.
    weight_sharding: the weight's split when the calling layer passes none
      (CollectiveLinear sets its `wt` here).
  """

  # Layers pass `weight_sharding=` to ops that declare this.
  accepts_weight_sharding = True

  mode: str = 'auto'
  bidirectional: bool = False
  model_axis: str = 'mdl'
  batch_axes: tuple[str, ...] = ('replica', 'data')
  accum_dtype: str | None = None
  forms: tuple[str, ...] = FORMS
  weight_sharding: tuple[Any, ...] | None = None

  def _mesh(self) -> jax.sharding.Mesh | None:
    mesh = ambient_mesh()
    if mesh is not None:
      return mesh
    if self.ici_mesh_shape is None or self.mesh_axis_names is None:
      return None
    dcn = self.dcn_mesh_shape or [1] * len(self.ici_mesh_shape)
    if math.prod(self.ici_mesh_shape) * math.prod(dcn) != jax.device_count():
      return None
    devices = py_utils.create_device_mesh(
        self.ici_mesh_shape, self.dcn_mesh_shape,
        contiguous_submeshes=self.contiguous_submeshes)
    return jax.sharding.Mesh(devices, self.mesh_axis_names)

  def __call__(self, equation: str, *args: JTensor,
               weight_sharding: Sequence[Any] | None = None) -> JTensor:
    """Computes `einsum(equation, x, w)`.

    Args:
      equation: two-operand einsum, e.g. 'md,dk->mk'.
      *args: x (activations, e.g. [M, D]) and w (weight, e.g. [D, K]).
      weight_sharding: w's split as stored (one entry per dim of w).

    Returns:
      The einsum result, e.g. [M, K].
    """
    if len(args) != 2:
      raise ValueError(f'CollectiveEinsumOp takes two operands (x, w); got '
                       f'{len(args)} for {equation!r}.')
    if self.is_initializing():
      # Variable init never depends on this op's output; a plain einsum keeps
      # the init program free of shard_map. (An eager init of a scanned stack
      # otherwise compiles the whole scan as one SPMD program, and with
      # jax_threefry_partitionable=False its random draws then differ from
      # the unsharded ones.)
      return jnp.einsum(equation, *args)
    if weight_sharding is None:
      weight_sharding = self.weight_sharding
    return collective_einsum(
        equation, *args, mesh=self._mesh(), mode=self.mode,
        bidirectional=self.bidirectional, model_axis=self.model_axis,
        batch_axes=self.batch_axes, weight_sharding=weight_sharding,
        accum_dtype=self.accum_dtype, forms=self.forms)


class CollectiveLinear(linears.Linear):
  """praxis `Linear` whose matmul is a ring collective matmul.

  Same variable ('w' [input_dims, output_dims]) as `Linear`. The form
  follows w's split `weight_split_dims_mapping.wt`: ('data', 'mdl') is an
  all-gather-matmul (column-parallel), ('mdl', 'data') a
  matmul-reduce-scatter (row-parallel).

  Attributes:
    einsum_tpl: the einsum op; a `CollectiveEinsumOp` (set its mode /
      bidirectional / axes here).
  """

  einsum_tpl: LayerTpl = template_field(CollectiveEinsumOp)

  def create_child(self, name: str, params: LayerTpl) -> None:
    if (name == 'einsum' and isinstance(params, pax_fiddle.Config)
        and issubclass(params.cls, CollectiveEinsumOp)):
      wt = self.weight_split_dims_mapping.wt
      params.weight_sharding = None if wt is None else tuple(wt)
    super().create_child(name, params)


def collective_einsum_config(mode: str = 'auto', bidirectional: bool = False,
                             model_axis: str = 'mdl',
                             batch_axes: Sequence[str] = ('replica', 'data'),
                             accum_dtype: str | None = None,
                             forms: Sequence[str] = FORMS) -> LayerTpl:
  """A `CollectiveEinsumOp` config for an `*einsum_tpl` field."""
  if mode not in MODES:
    raise ValueError(f'Unknown collective matmul mode {mode!r}; expected one '
                     f'of {MODES}.')
  bad = set(forms) - set(FORMS)
  if bad or not forms:
    raise ValueError(f'forms {tuple(forms)} must be a non-empty subset of '
                     f'{FORMS}.')
  if accum_dtype is not None:
    accum_dtype = jnp.dtype(accum_dtype).name
  return pax_fiddle.Config(CollectiveEinsumOp, mode=mode,
                           bidirectional=bidirectional, model_axis=model_axis,
                           batch_axes=tuple(batch_axes),
                           accum_dtype=accum_dtype, forms=tuple(forms))


def _walk(cfg: Any, seen: set[int]):
  """Yields every pax_fiddle.Config reachable from cfg (each once)."""
  if id(cfg) in seen:
    return
  seen.add(id(cfg))
  if isinstance(cfg, pax_fiddle.Config):
    yield cfg
    children = cfg.__arguments__.values()
  elif isinstance(cfg, (list, tuple)):
    children = cfg
  elif isinstance(cfg, dict):
    children = cfg.values()
  else:
    return
  for child in children:
    yield from _walk(child, seen)


def enable_collective_matmul(
    cfg: LayerTpl, mode: str | Mapping[str, str] = 'auto',
    bidirectional: bool = False, kinds: Sequence[str] = ('in', 'out'),
    model_axis: str = 'mdl', batch_axes: Sequence[str] = ('replica', 'data'),
    accum_dtype: str | None = None) -> LayerTpl:
  """Switches collective matmuls in a layer config tree, in place.

  Sets every `<kind>_einsum_tpl` field (kind 'in' / 'out' for `ViT22BBlock`;
  kind 'einsum' means the plain `einsum_tpl` of praxis `Linear`,
  `AttentionProjection`, ...) whose value is an `EinsumOp` config.

  Args:
    cfg: e.g. a `ViT22BEncoder`, `ViT22BBlock` or model config.
    mode: 'off': cfg unchanged. 'auto': every einsum of `kinds` runs as a
      ring, in the form its weight's split implies (for the ViT-22B layout:
      in-einsums all-gather, out-einsums reduce-scatter). 'all_gather' /
      'reduce_scatter': only the einsums of that form run as rings, the
      others stay with XLA. Or {kind: op mode} to force an op mode per kind
      (the op raises if it contradicts a weight's split).
    bidirectional: ring in both directions. Right where both directions of
      the model axis are separate links (TPU ICI torus, NVLink/NVSwitch
      rings with k >= 3): half the steps. At k = 2 both directions are the
      same single step, so it only adds work.
    kinds: which einsum fields to switch.
    model_axis: the ring's mesh axis.
    batch_axes: mesh axes sharding the batch.
    accum_dtype: dtype of travelling reduce-scatter partial sums (e.g.
      'float32' for a bfloat16 model).

  Returns:
    cfg (mutated unless mode is 'off').

  Raises:
    ValueError: a kind has no matching field anywhere in cfg, or bad mode.
  """
  if isinstance(mode, Mapping):
    ops = {k: dict(mode=m) for k, m in mode.items()}
  elif mode == 'off':
    return cfg
  elif mode == 'auto':
    ops = {k: dict(mode='auto') for k in kinds}
  elif mode in FORMS:
    ops = {k: dict(mode='auto', forms=(mode,)) for k in kinds}
  else:
    raise ValueError(f'Unknown collective matmul mode {mode!r}; expected one '
                     f'of {ENABLE_MODES} or a {{kind: mode}} mapping.')
  for kind in kinds:
    if kind not in ops:
      raise ValueError(f'No mode given for kind {kind!r}; got {mode}.')
    field = 'einsum_tpl' if kind == 'einsum' else f'{kind}_einsum_tpl'
    found = 0
    for sub in list(_walk(cfg, set())):
      op = getattr(sub, field, None)
      if isinstance(op, pax_fiddle.Config) and issubclass(
          op.__fn_or_cls__, base_ops.EinsumOp):
        setattr(sub, field, collective_einsum_config(
            bidirectional=bidirectional, model_axis=model_axis,
            batch_axes=batch_axes, accum_dtype=accum_dtype, **ops[kind]))
        found += 1
    if not found:
      raise ValueError(f'No {field!r} holding an EinsumOp config found in '
                       f'{cfg.__fn_or_cls__.__name__} for kind {kind!r}.')
  return cfg
