# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tensor-parallel layout of the block and collective einsums, pure JAX.

The ViT-22B layout (paper §3): weights 2-D sharded, d on the FSDP axis
('data') and heads / MLP hidden on the tensor-parallel axis ('mdl');
activations' batch on ('replica', 'data') and hidden dims on 'mdl':

  weights      dnh=(data, mdl, -)  nhd=(mdl, -, data)  df=(data, mdl)
               fd=(mdl, data)
  activations  btd=(batch, -, mdl)  btnh=(batch, -, mdl, -)
               bnts=(batch, mdl, -, -)  btf=(batch, -, mdl)

`block_splits` is the one definition of it (`vit22b_pax.layers.sharding`
sets it on the praxis configs, `block_ops` applies it to `core.block`).

`plan_einsum` decides how `y = einsum(eqn, x, w)` runs as a ring collective
matmul over the model axis. For 'xs,ws->ys' (x activations, w weight):
  c: a contracted letter (in x and w, not in ys);
  o: an output letter of w (in w and ys, not in x);
  b: the first batch letter of x (in x and ys, not in w).
Inside the shard_map (k = size of the model axis):
  x [.. b .. c ..]: b on the batch axes, c on the model axis (both forms)
  y [.. b .. o ..]: b on the batch axes, o on the model axis (both forms)
  w: 'all_gather': o on the model axis (column-parallel, x blocks travel);
     'reduce_scatter': c on the model axis (row-parallel, partial sums of y
     travel).
The form follows the weight's actual split (`weight_sharding`, which the
praxis block passes from its `WeightSharding`): the model axis on an output
dim of w means all-gather, on a contracted dim reduce-scatter, on neither:
no tensor parallelism, a plain einsum. So the op never reshards a weight.
Without a weight split (a caller that has none, e.g. a generic praxis
`einsum_tpl`), 'auto' moves the smaller side: all-gather iff |c-dims of x| <
|o-dims of y| per token, reduce-scatter if larger; on a tie all-gather iff
w has no more contracted letters than output letters.
Other mesh axes (e.g. FSDP 'data' on d) are gathered by XLA before the
shard_map, as in the paper.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import string
from typing import Any, Mapping, Sequence

import jax
from jax import numpy as jnp
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from vit22b_pax.core import block as core_block
from vit22b_pax.core import compat
from vit22b_pax.core import collective_matmul

MODES = ('all_gather', 'reduce_scatter', 'auto')
FORMS = ('all_gather', 'reduce_scatter')


def block_splits(data: str = 'data', mdl: str = 'mdl',
                 batch: Any = ('replica', 'data')
                 ) -> tuple[dict[str, tuple], dict[str, tuple]]:
  """(weight splits by WeightSharding key, activation splits by kind)."""
  weights = {'dnh': (data, mdl, None), 'nhd': (mdl, None, data),
             'df': (data, mdl), 'fd': (mdl, data)}
  acts = {'btd': (batch, None, mdl), 'btnh': (batch, None, mdl, None),
          'bnts': (batch, mdl, None, None), 'btf': (batch, None, mdl)}
  return weights, acts


@dataclasses.dataclass(frozen=True)
class Plan:
  """How one einsum runs as a collective matmul.

  Attributes:
    eqn: the equation with '...' expanded.
    form: 'all_gather', 'reduce_scatter' or 'none' (plain einsum).
    letter: ring letter (c for all_gather, o for reduce_scatter).
    x_spec: PartitionSpec of x.
    w_spec: PartitionSpec of w.
    out_spec: PartitionSpec of y.
  """
  eqn: str
  form: str
  letter: str | None
  x_spec: P | None
  w_spec: P | None
  out_spec: P | None


def expand_ellipsis(eqn: str, x_ndim: int) -> str:
  """'...y,yz->...z' -> 'ay,yz->az' for a 2-D x (fresh letters)."""
  eqn = eqn.replace(' ', '')
  if '...' not in eqn:
    return eqn
  xs = eqn.split(',')[0]
  n = x_ndim - (len(xs) - 3)
  free = [c for c in string.ascii_letters if c not in eqn][:n]
  return eqn.replace('...', ''.join(free))


def _axes(entry) -> tuple[str, ...]:
  if entry is None or entry == -1:
    return ()
  return tuple(entry) if isinstance(entry, (tuple, list)) else (entry,)


def plan_einsum(eqn: str, x_shape: Sequence[int], w_shape: Sequence[int],
                mesh_shape: Mapping[str, int], mode: str = 'auto',
                model_axis: str = 'mdl',
                batch_axes: Sequence[str] = ('replica', 'data'),
                weight_sharding: Sequence[Any] | None = None) -> Plan:
  """Chooses the form and shardings of a collective `einsum(eqn, x, w)`.

  Args:
    eqn: two-operand einsum, x first, weight second ('...' allowed in x/y).
    x_shape: global shape of x.
    w_shape: global shape of w.
    mesh_shape: {axis name: size} of the mesh.
    mode: 'all_gather', 'reduce_scatter' or 'auto' (module docstring).
    model_axis: the ring's mesh axis.
    batch_axes: mesh axes that shard x's batch letter (missing ones skipped).
    weight_sharding: w's split (mesh axis, tuple of axes or None per dim),
      as stored; None = unknown (size rule).

  Returns:
    The Plan.

  Raises:
    ValueError: unknown mode, unsupported equation, a mode that contradicts
      the weight's split, or a sharded dim not divisible by its mesh axes.
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
  if weight_sharding is not None:
    if len(weight_sharding) != len(ws):
      raise ValueError(f'weight_sharding {tuple(weight_sharding)} has '
                       f'{len(weight_sharding)} entries; w of {eqn!r} has '
                       f'{len(ws)} dims.')
    on = [l for l, s in zip(ws, weight_sharding) if model_axis in _axes(s)]
    if len(on) > 1:
      raise ValueError(f'weight_sharding {tuple(weight_sharding)} puts '
                       f'{model_axis!r} on several dims {on} of w in {eqn!r}.')
    form = ('none' if not on else
            'all_gather' if on[0] in outputs else 'reduce_scatter')
    if mode != 'auto' and form != mode:
      raise ValueError(
          f'mode {mode!r} contradicts the weight\'s split '
          f'{tuple(weight_sharding)} of {eqn!r} ({model_axis!r} '
          + (f'on {on[0]!r}: {form})' if on else 'on no dim)')
          + '; running it would reshard the weight. Use mode=\'auto\'.')
    if form == 'none':
      return Plan(eqn, 'none', None, None, None, None)
    if form == 'all_gather':
      o = on[0]
    else:
      c = on[0]
    mode = form
  elif mode == 'auto':
    n = math.prod(size[l] for l in contracted)
    m = math.prod(size[l] for l in outputs)
    if n != m:
      mode = 'all_gather' if n < m else 'reduce_scatter'
    else:
      mode = ('all_gather' if len(contracted) <= len(outputs)
              else 'reduce_scatter')
  k = mesh_shape[model_axis]
  collective_matmul.check_divisible(size[c], k, f'Contracted dim {c!r} of x')
  collective_matmul.check_divisible(size[o], k, f'Output dim {o!r} of w')
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
    return P(*(model_axis if l == on else b_part if l == b_letter else None
               for l in letters))

  w_on = o if mode == 'all_gather' else c
  return Plan(eqn=eqn, form=mode, letter=c if mode == 'all_gather' else o,
              x_spec=spec(xs, c), w_spec=spec(ws, w_on), out_spec=spec(ys, o))


def collective_einsum(eqn: str, x: jax.Array, w: jax.Array,
                      mesh: jax.sharding.Mesh | None, mode: str = 'auto',
                      bidirectional: bool = False, model_axis: str = 'mdl',
                      batch_axes: Sequence[str] = ('replica', 'data'),
                      weight_sharding: Sequence[Any] | None = None,
                      accum_dtype: Any = None,
                      forms: Sequence[str] = FORMS) -> jax.Array:
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
    weight_sharding: w's split as stored (see plan_einsum).
    accum_dtype: dtype of travelling reduce-scatter partial sums.
    forms: the forms that run as rings; an einsum planned to another form
      is left to XLA (plain einsum).

  Returns:
    y (sharded as plan_einsum's out_spec when a ring runs).
  """
  if mode not in MODES:
    raise ValueError(f'Unknown collective matmul mode {mode!r}; expected one '
                     f'of {MODES}.')
  bad = set(forms) - set(FORMS)
  if bad:
    raise ValueError(f'Unknown forms {sorted(bad)}; expected a subset of '
                     f'{FORMS}.')
  if (mesh is None or model_axis not in mesh.axis_names
      or mesh.shape[model_axis] == 1):
    return jnp.einsum(eqn, x, w)
  plan = plan_einsum(eqn, x.shape, w.shape, dict(mesh.shape), mode,
                     model_axis, batch_axes, weight_sharding)
  if plan.form not in forms:
    return jnp.einsum(plan.eqn, x, w)
  fn = (collective_matmul.all_gather_matmul if plan.form == 'all_gather'
        else collective_matmul.matmul_reduce_scatter)
  fn = functools.partial(fn, eqn=plan.eqn, letter=plan.letter,
                         axis_name=model_axis, bidirectional=bidirectional,
                         accum_dtype=accum_dtype)
  return compat.shard_map(fn, mesh, (plan.x_spec, plan.w_spec),
                          plan.out_spec)(x, w)


MATMULS = ('xla', 'ring', 'ring_bidi')


def param_specs(cfg: core_block.BlockConfig,
                weight_splits: Mapping[str, tuple]) -> dict[str, Any]:
  """PartitionSpec of every block parameter (norms replicated)."""
  specs: dict[str, Any] = {}
  for name in cfg.norm_names():
    _, _, bias = cfg.norm_spec(name)
    specs[name] = {'scale': P()} | ({'bias': P()} if bias else {})
  dnh = weight_splits['dnh']
  for name, spec in core_block.weight_specs(cfg).items():
    key = spec.sharding
    split = (weight_splits[key] if key in weight_splits else
             tuple(dnh[1:]) if key == 'nh' else
             (weight_splits['df'][1],) if key == 'f' else
             (None,) * len(spec.shape))
    specs[name] = P(*split)
  return specs


def block_ops(cfg: core_block.BlockConfig, mesh: jax.sharding.Mesh,
              matmul: str = 'xla', accum_dtype: Any = None,
              data: str = 'data', mdl: str = 'mdl',
              batch: Any = ('replica', 'data')) -> core_block.Ops:
  """`core.block.Ops` running the block tensor-parallel on `mesh`.

  Activations get `block_splits`' sharding constraints; the weight matmuls
  are XLA's partitioning of a plain einsum ('xla') or ring collective
  matmuls in the form each weight's split implies ('ring', 'ring_bidi').
  The fused block splits its activations (`core.block.Ops.split_weights`
  False: one ring, or one XLA collective, per fused weight) unless 'mdl'
  has one device, where 'xla' splits its weights.

  Args:
    cfg: the block configuration (for the weights' splits).
    mesh: a mesh with (some of) the axes named by data, mdl and batch.
    matmul: one of MATMULS.
    accum_dtype: ring reduce-scatter partial-sum dtype.
    data: FSDP axis name.
    mdl: tensor-parallel axis name.
    batch: batch axes.

  Returns:
    The hooks.
  """
  if matmul not in MATMULS:
    raise ValueError(f'Unknown matmul {matmul!r}; expected one of '
                     f'{MATMULS}.')
  names = set(mesh.axis_names)

  def keep(entry):
    kept = tuple(a for a in _axes(entry) if a in names)
    return None if not kept else kept[0] if len(kept) == 1 else kept

  w_splits, a_splits = block_splits(data, mdl, batch)
  w_splits = {k: tuple(keep(e) for e in v) for k, v in w_splits.items()}
  a_splits = {k: tuple(keep(e) for e in v) for k, v in a_splits.items()}
  batch_axes = tuple(a for a in _axes(batch) if a in names)
  specs = core_block.weight_specs(cfg)

  def shard(x, kind):
    return jax.lax.with_sharding_constraint(
        x, NamedSharding(mesh, P(*a_splits[kind])))

  def mm(eqn):
    def run(x, w, name):
      if matmul == 'xla':
        return jnp.einsum(eqn, x, w)
      split = core_block.flat_weight_split(name,
                                           w_splits[specs[name].sharding])
      return collective_einsum(
          eqn, x, w, mesh, 'auto', matmul == 'ring_bidi', mdl, batch_axes,
          split, accum_dtype)
    return run

  # Rings: one per fused weight (split activations), not one per segment.
  # XLA's own partitioning too when mdl has > 1 device: a matmul per weight
  # segment would gather the input and reduce the output once per segment
  # (3x the bytes at the paper's mesh, docs/scale.md).
  tp = dict(zip(mesh.axis_names, mesh.devices.shape)).get(mdl, 1) > 1
  return core_block.Ops(in_matmul=mm('md,dk->mk'),
                        out_matmul=mm('mk,kd->md'), shard=shard,
                        split_weights=matmul == 'xla' and not tp)
