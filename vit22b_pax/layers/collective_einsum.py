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

For an equation 'xs,ws->ys' (x activations, w weight):
  c: the first contracted letter in w's order (in x and w, not in ys);
  o: the first output letter of w in w's order (in w and ys, not in x);
  b: the first batch letter of x (in x and ys, not in w).
Shardings inside the shard_map (k = size of the model axis 'mdl'):
  x [.. b .. c ..]: b on the batch axes, c on 'mdl'   (both forms)
  y [.. b .. o ..]: b on the batch axes, o on 'mdl'   (both forms)
  w: 'all_gather': o on 'mdl' (column-parallel, x blocks travel);
     'reduce_scatter': c on 'mdl' (row-parallel, partial sums of y travel).
'auto' moves the smaller side: all_gather iff |c-dims of x| < |o-dims of y|
(per token), reduce_scatter if larger; on a tie all_gather iff w has no more
contracted letters than output letters. For the ViT-22B block as sharded by
`vit22b_pax.layers.sharding` ('btd,dne->btne' with w_in (data, mdl, -);
'btnc,ncd->btd' with w_out (mdl, -, data); likewise unfused) 'auto' picks
all_gather for every in-einsum and reduce_scatter for every out-einsum, which
matches those weight layouts; forcing the other form makes XLA reshard the
weight first. Other mesh axes (e.g. FSDP 'data' on d) are gathered by XLA
before the op, as in the paper.

With no mesh, one device, or a model axis of size 1, and during `init`
(variables never depend on it), it is a plain `jnp.einsum`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import string
from typing import Any, Mapping, Sequence

import jax
from jax import numpy as jnp
from jax.experimental.shard_map import shard_map
from jax.interpreters import pxla
from jax.sharding import PartitionSpec as P
from praxis import base_layer
from praxis import pax_fiddle
from praxis import py_utils
from praxis import pytypes
from praxis.layers import base_ops
from praxis.layers import linears

from vit22b_pax.layers import collective_matmul

JTensor = pytypes.JTensor
LayerTpl = pax_fiddle.Config[base_layer.BaseLayer]
template_field = base_layer.template_field

MODES = ('all_gather', 'reduce_scatter', 'auto')


@dataclasses.dataclass(frozen=True)
class Plan:
  """How one einsum runs as a collective matmul.

  Attributes:
    eqn: the equation with '...' expanded.
    form: 'all_gather' or 'reduce_scatter'.
    letter: ring letter (c for all_gather, o for reduce_scatter).
    x_spec: PartitionSpec of x.
    w_spec: PartitionSpec of w.
    out_spec: PartitionSpec of y.
  """
  eqn: str
  form: str
  letter: str
  x_spec: P
  w_spec: P
  out_spec: P


def expand_ellipsis(eqn: str, x_ndim: int) -> str:
  """'...y,yz->...z' -> 'ay,yz->az' for a 2-D x (fresh letters)."""
  eqn = eqn.replace(' ', '')
  if '...' not in eqn:
    return eqn
  xs = eqn.split(',')[0]
  n = x_ndim - (len(xs) - 3)
  free = [c for c in string.ascii_letters if c not in eqn][:n]
  return eqn.replace('...', ''.join(free))


def plan_einsum(eqn: str, x_shape: Sequence[int], w_shape: Sequence[int],
                mesh_shape: Mapping[str, int], mode: str = 'auto',
                model_axis: str = 'mdl',
                batch_axes: Sequence[str] = ('replica', 'data')) -> Plan:
  """Chooses the form and shardings of a collective `einsum(eqn, x, w)`.

  Args:
    eqn: two-operand einsum, x first, weight second ('...' allowed in x/y).
    x_shape: global shape of x.
    w_shape: global shape of w.
    mesh_shape: {axis name: size} of the mesh.
    mode: 'all_gather', 'reduce_scatter' or 'auto' (see module docstring).
    model_axis: the ring's mesh axis.
    batch_axes: mesh axes that shard x's batch letter (missing ones skipped).

  Returns:
    The Plan.

  Raises:
    ValueError: unknown mode, unsupported equation, or a sharded dim not
      divisible by its mesh axes.
  """
  if mode not in MODES:
    raise ValueError(f'Unknown collective matmul mode {mode!r}; expected one '
                     f'of {MODES}.')
  eqn = expand_ellipsis(eqn, len(x_shape))
  xs, ws, ys = collective_matmul.split_eqn(eqn)
  collective_matmul.grad_eqns(eqn)
  if len(xs) != len(x_shape) or len(ws) != len(w_shape):
    raise ValueError(f'Einsum {eqn!r} does not match shapes {tuple(x_shape)} '
                     f'and {tuple(w_shape)}.')
  size = dict(zip(xs, x_shape)) | dict(zip(ws, w_shape))
  contracted = [l for l in ws if l in xs and l not in ys]
  outputs = [l for l in ws if l in ys and l not in xs]
  batch = [l for l in xs if l in ys and l not in ws]
  if not contracted or not outputs or any(l in ws for l in xs if l in ys):
    raise ValueError(
        f'Collective matmul needs x and w to share only contracted dims and '
        f'w to have an output dim; got {eqn!r}.')
  c, o = contracted[0], outputs[0]
  k = mesh_shape[model_axis]
  collective_matmul.check_divisible(size[c], k, f'Contracted dim {c!r} of x')
  collective_matmul.check_divisible(size[o], k, f'Output dim {o!r} of w')
  if mode == 'auto':
    n = math.prod(size[l] for l in contracted)
    m = math.prod(size[l] for l in outputs)
    if n != m:
      mode = 'all_gather' if n < m else 'reduce_scatter'
    else:
      mode = ('all_gather' if len(contracted) <= len(outputs)
              else 'reduce_scatter')
  b_axes = tuple(a for a in batch_axes if a in mesh_shape)
  b_letter = batch[0] if batch and b_axes else None
  if b_letter is not None:
    nb = math.prod(mesh_shape[a] for a in b_axes)
    if size[b_letter] % nb:
      raise ValueError(
          f'Batch dim {b_letter!r} has size {size[b_letter]}, which is not '
          f'divisible by the {nb} devices of the batch axes {b_axes}.')
  b_part = b_axes if len(b_axes) > 1 else b_axes[0] if b_axes else None

  def spec(letters, on):
    return P(*(model_axis if l in on else b_part if l == b_letter else None
               for l in letters))

  w_on = o if mode == 'all_gather' else c
  return Plan(eqn=eqn, form=mode, letter=c if mode == 'all_gather' else o,
              x_spec=spec(xs, c), w_spec=spec(ws, w_on),
              out_spec=spec(ys, o))


def ambient_mesh() -> jax.sharding.Mesh | None:
  """The Pax/pjit mesh of the enclosing `with mesh:` block, or None."""
  if not py_utils.global_mesh_defined():
    return None
  return pxla.thread_resources.env.physical_mesh


def collective_einsum(eqn: str, x: JTensor, w: JTensor,
                      mesh: jax.sharding.Mesh | None, mode: str = 'auto',
                      bidirectional: bool = False, model_axis: str = 'mdl',
                      batch_axes: Sequence[str] = ('replica', 'data'),
                      ) -> JTensor:
  """`einsum(eqn, x, w)` as a ring collective matmul over `mesh`.

  Args:
    eqn: two-operand einsum, activations x first, weight w second.
    x: global activations.
    w: global weight.
    mesh: the device mesh; None = plain einsum.
    mode: 'all_gather', 'reduce_scatter' or 'auto'.
    bidirectional: ring in both directions.
    model_axis: the ring's mesh axis.
    batch_axes: mesh axes sharding x's batch dim.

  Returns:
    y, sharded as plan_einsum's out_spec.
  """
  if mode not in MODES:
    raise ValueError(f'Unknown collective matmul mode {mode!r}; expected one '
                     f'of {MODES}.')
  if (mesh is None or model_axis not in mesh.axis_names
      or mesh.shape[model_axis] == 1):
    return jnp.einsum(eqn, x, w)
  plan = plan_einsum(eqn, x.shape, w.shape, dict(mesh.shape), mode,
                     model_axis, batch_axes)
  fn = (collective_matmul.all_gather_matmul if plan.form == 'all_gather'
        else collective_matmul.matmul_reduce_scatter)
  fn = functools.partial(fn, eqn=plan.eqn, letter=plan.letter,
                         axis_name=model_axis, bidirectional=bidirectional)
  return shard_map(fn, mesh=mesh, in_specs=(plan.x_spec, plan.w_spec),
                   out_specs=plan.out_spec, check_rep=False)(x, w)


class CollectiveEinsumOp(base_ops.EinsumOp):
  """EinsumOp computing weight matmuls as overlapped ring collectives.

  Attributes:
    mode: 'all_gather' (x blocks travel; w column-parallel), 'reduce_scatter'
      (partial sums travel; w row-parallel) or 'auto' (the smaller side
      travels; see the module docstring).
    bidirectional: send blocks both ways round the ring (about half the
      steps, both links busy).
    model_axis: mesh axis of the ring (tensor parallelism).
    batch_axes: mesh axes that shard the batch dim of x.
  """

  mode: str = 'auto'
  bidirectional: bool = False
  model_axis: str = 'mdl'
  batch_axes: tuple[str, ...] = ('replica', 'data')

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

  def __call__(self, equation: str, *args: JTensor) -> JTensor:
    """Computes `einsum(equation, x, w)`.

    Args:
      equation: two-operand einsum, e.g. 'btd,dne->btne'.
      *args: x (activations, e.g. [B, T, D]) and w (weight, e.g. [D, N, E]).

    Returns:
      The einsum result, e.g. [B, T, N, E].
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
    return collective_einsum(equation, *args, mesh=self._mesh(),
                             mode=self.mode, bidirectional=self.bidirectional,
                             model_axis=self.model_axis,
                             batch_axes=self.batch_axes)


class CollectiveLinear(linears.Linear):
  """praxis `Linear` whose matmul is a ring collective matmul.

  Same variable ('w' [input_dims, output_dims]) as `Linear`. Shard w on
  ('data', 'mdl') for all_gather (column-parallel) or ('mdl', 'data') for
  reduce_scatter (row-parallel).

  Attributes:
    einsum_tpl: the einsum op; a `CollectiveEinsumOp` (set its mode /
      bidirectional / axes here).
  """

  einsum_tpl: LayerTpl = template_field(CollectiveEinsumOp)


def collective_einsum_config(mode: str = 'auto', bidirectional: bool = False,
                             model_axis: str = 'mdl',
                             batch_axes: Sequence[str] = ('replica', 'data'),
                             ) -> LayerTpl:
  """A `CollectiveEinsumOp` config for an `*einsum_tpl` field."""
  if mode not in MODES:
    raise ValueError(f'Unknown collective matmul mode {mode!r}; expected one '
                     f'of {MODES}.')
  return pax_fiddle.Config(CollectiveEinsumOp, mode=mode,
                           bidirectional=bidirectional, model_axis=model_axis,
                           batch_axes=tuple(batch_axes))


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
    cfg: LayerTpl, kinds: Sequence[str] = ('in', 'out'),
    mode: str | Mapping[str, str] = 'auto', bidirectional: bool = False,
    model_axis: str = 'mdl',
    batch_axes: Sequence[str] = ('replica', 'data')) -> LayerTpl:
  """Switches on collective matmuls in a layer config tree, in place.

  Sets every `<kind>_einsum_tpl` field (kind 'in' / 'out' for `ViT22BBlock`;
  kind 'einsum' means the plain `einsum_tpl` of praxis `Linear`,
  `AttentionProjection`, ...) whose value is an `EinsumOp` config.

  Args:
    cfg: e.g. a `ViT22BEncoder`, `ViT22BBlock` or model config.
    kinds: which einsum fields to switch.
    mode: one mode for all kinds, or {kind: mode}.
    bidirectional: ring in both directions.
    model_axis: the ring's mesh axis.
    batch_axes: mesh axes sharding the batch.

  Returns:
    cfg (mutated).

  Raises:
    ValueError: a kind has no matching field anywhere in cfg, or bad mode.
  """
  modes = dict(mode) if isinstance(mode, Mapping) else {k: mode for k in kinds}
  for kind in kinds:
    if kind not in modes:
      raise ValueError(f'No mode given for kind {kind!r}; got {modes}.')
    field = 'einsum_tpl' if kind == 'einsum' else f'{kind}_einsum_tpl'
    found = 0
    for sub in list(_walk(cfg, set())):
      op = getattr(sub, field, None)
      if isinstance(op, pax_fiddle.Config) and issubclass(
          op.__fn_or_cls__, base_ops.EinsumOp):
        setattr(sub, field, collective_einsum_config(
            modes[kind], bidirectional, model_axis, batch_axes))
        found += 1
    if not found:
      raise ValueError(f'No {field!r} holding an EinsumOp config found in '
                       f'{cfg.__fn_or_cls__.__name__} for kind {kind!r}.')
  return cfg
