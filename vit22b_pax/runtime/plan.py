# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Scale plan: memory, communication and step time of a sharded ViT-22B step.

An analytic model of one training step of an encoder config (+ classifier)
on a mesh (replica x) data x mdl (paper §3, "asynchronous parallel linear
operations"; VIT22B.md §2.1). The model's parameters and their shardings are
read from the model itself: the encoder config with
`vit22b_pax.layers.sharding.set_sharding` applied, inside the classifier
model, abstract-initialised (`abstract_init_with_metadata`: shapes, each
weight's `tensor_split_dims_mapping` and the scan's repeat prefix). With the
ViT-22B layout that is: block matrices 2-D over (data, mdl), the stem and
position embedding on mdl only, the MAP head like a block, norms, output
biases and the classifier replicated.

* per-device bytes of every tensor follow its split (ceil per dim);
* activations [B, T, D] are split over the batch axes on B and over 'mdl'
  on D; each block all-gathers its normalised input over 'mdl' before its
  input matmul(s) (one for the parallel block, two for the sequential one)
  and reduce-scatters each output matmul's result (one fused, two unfused);
* weights split over 'data' are all-gathered before use and their
  gradients reduce-scattered over 'data' (ZeRO-3); weights replicated over
  'data' (and everything over 'replica') get their gradients all-reduced;
* memory also counts the FSDP-gathered weights of two blocks (the one in
  use and the next one being fetched, in the compute dtype) and gradients
  sharded like the parameters;
* optimizer: the paper's Adafactor: bf16 first moment, factored float32
  second moment (row + column statistics) for matrices whose two largest
  dims are >= `min_dim_size_to_factor`, full float32 otherwise.

Block einsum letters follow `vit22b_pax.core.block`: B batch, T tokens, D
width, N heads, H head dim, F MLP width.

Remat policies: 'full' saves every residual the backward needs (no remat);
'nothing_saveable' keeps only each block's input and recomputes the block in
the backward pass (one extra forward of the blocks without their output
matmuls, whose results the backward never reads: a second weight
all-gather and activation all-gather per block, no second reduce-scatter).

Step time: compute at peak FLOP/s and each collective at `Chip.link_bw`
(one mesh axis = one torus dimension / NVLink ring, the two axes on
different links). 'overlapped' assumes every collective hides behind the
block's matmuls (the paper's async design) so a block costs the maximum of
the three; 'serial' adds them. Both ignore non-matmul time, so the MFU they
give is an upper bound.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

import jax
from jax import numpy as jnp
from praxis import base_layer
from praxis import pax_fiddle
from praxis import py_utils

from vit22b_pax.layers import sharding
from vit22b_pax.layers import variants
from vit22b_pax.models import classifier
from vit22b_pax.optim import adafactor
from vit22b_pax.perf import compiled as compiled_lib
from vit22b_pax.perf import flops as flops_lib
from vit22b_pax.perf import peaks

REMAT_POLICIES = ('full', 'nothing_saveable')
_DTYPE_BYTES = {'float32': 4, 'bfloat16': 2, 'float16': 2}
MESH_AXES = sharding.MESH_AXIS_NAMES


@dataclasses.dataclass(frozen=True)
class Weight:
  """One parameter tensor of the model.

  Attributes:
    name: its path, e.g. 'network/blocks/block/w_in'.
    shape: per-layer shape (without the scan's repeat prefix).
    count: how many tensors of this shape (the repeat prefix: layers).
    shard: mesh axis (tuple of axes, None or -1) per dim of `shape`.
  """

  name: str
  shape: tuple[int, ...]
  count: int
  shard: tuple[Any, ...]

  @property
  def is_block(self) -> bool:
    return '/blocks' in f'/{self.name}'


def _mesh_shape(mesh: dict[str, int]) -> list[int]:
  return [mesh.get(a, 1) for a in MESH_AXES]


def model_weights(encoder_p: pax_fiddle.Config, num_classes: int,
                  mesh: dict[str, int]) -> list[Weight]:
  """The model's parameters with the shardings it actually has.

  Args:
    encoder_p: the encoder config (copied; `set_sharding` is applied to the
      copy with the mesh shape).
    num_classes: classifier classes (>= 2), or 0 for the encoder alone.
    mesh: {'replica'?, 'data'?, 'mdl'?: size}.

  Returns:
    One `Weight` per parameter tensor (scanned layers: count = layers).
  """
  enc = sharding.set_sharding(copy.deepcopy(encoder_p),
                              ici_mesh_shape=_mesh_shape(mesh))
  grid = tuple(enc.pos_emb_grid)
  image = jax.ShapeDtypeStruct(
      (1, grid[0] * enc.patch_size, grid[1] * enc.patch_size,
       enc.num_channels), jnp.float32)
  if num_classes:
    model_p = classifier.classifier_config(enc, num_classes)
    model_p.mesh_axis_names = list(MESH_AXES)
    model_p.ici_mesh_shape = _mesh_shape(mesh)
    args = (py_utils.NestedMap(image=image, label_probs=jax.ShapeDtypeStruct(
        (1, num_classes), jnp.float32)),)
  else:
    model_p, args = enc, (image,)
  model = base_layer.instantiate(model_p)
  with base_layer.JaxContext.new_context():
    meta = model.abstract_init_with_metadata(*args)[base_layer.PARAMS]
  leaves, _ = jax.tree_util.tree_flatten_with_path(
      meta, is_leaf=lambda x: isinstance(x, base_layer.WeightHParams))
  out = []
  for path, h in leaves:
    name = '/'.join(str(getattr(k, 'key', k)) for k in path)
    shape = tuple(h.shape)
    split = h.tensor_split_dims_mapping
    # praxis writes -1 (and [-1] for any rank) for "replicated".
    split = tuple(None if e == -1 else e for e in (split or ()))
    if len(split) != len(shape):
      split = (None,) * len(shape)
    prefix = tuple(h.repeat_prefix or ())
    out.append(Weight(name, shape, math.prod(prefix), split))
  return out


def axes_of(entry) -> tuple[str, ...]:
  """Mesh axes of one dim's split entry (None / -1: none)."""
  if entry is None or entry == -1:
    return ()
  return tuple(entry) if isinstance(entry, (tuple, list)) else (entry,)


_axes = axes_of


def _per_device(shape, shard, mesh: dict[str, int]) -> int:
  """Elements of one device's shard (ceil per dim)."""
  n = 1
  for size, entry in zip(shape, shard):
    n *= math.ceil(size / math.prod(mesh.get(a, 1) for a in _axes(entry)))
  return n


def _split_axes(w: Weight) -> set[str]:
  return {a for e in w.shard for a in _axes(e)}


def adafactor_slots(shape, shard, min_dim_size_to_factor=32
                    ) -> dict[str, tuple[list[int], list[Any]]]:
  """{slot: (shape, shard)} of a parameter's Adafactor state.

  'param' and 'm' (momentum) are the parameter's own; a factored matrix
  (`optim.adafactor.factored_dims`: its two largest dims, d1 <= d0) keeps
  'v_row' without d0 and 'v_col' without d1, each dim split as in the
  parameter; otherwise 'v' is the parameter's shape.
  """
  shape, shard = list(shape), list(shard)
  slots = {'param': (shape, shard), 'm': (shape, shard)}
  dims = adafactor.factored_dims(shape, min_dim_size_to_factor)
  if dims is None:
    slots['v'] = (shape, shard)
  else:
    d1, d0 = dims
    keep = lambda drop: ([s for i, s in enumerate(shape) if i != drop],
                         [a for i, a in enumerate(shard) if i != drop])
    slots['v_row'], slots['v_col'] = keep(d0), keep(d1)
  return slots


def adafactor_state_elems(shape, shard, mesh, min_dim_size_to_factor=32
                          ) -> tuple[int, int]:
  """(momentum elements, float32 second-moment elements) per device."""
  slots = adafactor_slots(shape, shard, min_dim_size_to_factor)
  v = sum(_per_device(*slots[k], mesh) for k in ('v', 'v_row', 'v_col')
          if k in slots)
  return _per_device(*slots['m'], mesh), v


@dataclasses.dataclass
class Plan:
  """Inputs and results of the analytic model (all per device per step)."""

  variant: str
  image_size: int
  batch: int
  mesh: dict[str, int]
  chip: str
  remat: str
  num_classes: int = 1000
  param_dtype: str = 'float32'
  act_dtype: str = 'bfloat16'
  momentum_dtype: str = 'bfloat16'
  min_dim_size_to_factor: int = 32
  results: dict = dataclasses.field(default_factory=dict)

  @property
  def num_chips(self) -> int:
    return math.prod(self.mesh.values())


def activation_elems_per_token(d: int, f: int, heads: int, tokens: int,
                               tp: int, remat: str, depth: int,
                               patch_elems: int = 0) -> tuple[float, float]:
  """Activation elements per token on one device: (saved, working).

  'saved' are the residuals the forward pass keeps for the backward pass;
  'working' is one block's residual set, live while that block's backward
  runs (recomputed there under 'nothing_saveable').

  One block's residuals, as JAX autodiff of the fused parallel block keeps
  them (everything saveable): block input and the norm's normalised input
  (2 D/tp), the norm output all-gathered over 'mdl' for the input matmul
  (D), q, k, v (3 D/tp), the two QK-norms' normalised and scaled outputs
  (4 D/tp), softmax exp and probabilities (2 N T/tp), the tanh-GELU's five
  F-sized intermediates (5 F/tp) and the concatenated [context, GELU]
  input of the output matmul ((D + F)/tp).
  Outside the blocks: the patches (P^2 C, not split over 'mdl') and the
  exit norm's input and normalised input (2 D/tp).
  'full' saves every block's set; 'nothing_saveable' saves only the block
  inputs (D/tp each).
  """
  block = 2 * d / tp + d + (8 * d + 6 * f + 2 * heads * tokens) / tp
  outside = patch_elems + 2 * d / tp
  if remat == 'full':
    return depth * block + outside, block
  if remat == 'nothing_saveable':
    return depth * d / tp + outside, block
  raise ValueError(f'remat must be one of {REMAT_POLICIES}, got {remat!r}.')


def recompute_flops_per_image(enc: Any, tokens: int) -> float:
  """FLOPs the 'nothing_saveable' backward pass recomputes per image.

  Each block's forward again, but for its output matmuls: the backward
  needs their inputs (recomputed) and the incoming gradient, never their
  result, so XLA drops them as dead code (seen in the compiled paper step:
  `tools/dryrun`, docs/scale.md). Blocks only: the stem and head are not
  rematerialised.
  """
  counts = flops_lib.encoder_param_counts(enc)
  d, f, depth = enc.model_dims, enc.hidden_dims, enc.num_layers
  out_params = depth * (d + f) * d  # attention out D x D + MLP out F x D
  forward = 2.0 * counts['blocks'] + 4.0 * depth * d * tokens
  return (forward - 2.0 * out_params) * tokens


def _encoder(variant: Any, image_size: int) -> tuple[Any, str]:
  """(encoder config, display name) of a variant name or an encoder config."""
  if isinstance(variant, pax_fiddle.Config):
    p = variant.patch_size
    if image_size % p:
      raise ValueError(f'image_size must be a positive multiple of the patch '
                       f'size {p}, got {image_size}.')
    enc = copy.deepcopy(variant)
    enc.pos_emb_grid = (image_size // p, image_size // p)
    name = (f'D{enc.model_dims}xL{enc.num_layers}xF{enc.hidden_dims}'
            f'xN{enc.num_heads}/{p}')
    return enc, name
  v, patch = variants.decode_variant(variant)
  if image_size <= 0 or image_size % patch:
    raise ValueError(f'image_size must be a positive multiple of the patch '
                     f'size {patch}, got {image_size}.')
  return variants.encoder_config(variant, image_size), str(variant)


def make_plan(variant: Any, image_size: int, batch: int,
              mesh: dict[str, int], chip: str, remat: str = 'nothing_saveable',
              num_classes: int = 1000, param_dtype: str = 'float32',
              act_dtype: str = 'bfloat16', momentum_dtype: str = 'bfloat16',
              min_dim_size_to_factor: int = 32) -> Plan:
  """Builds the plan; see the module docstring for the model.

  Args:
    variant: a size name ('22B/14') or an encoder config.
    image_size: square training resolution.
    batch: global batch.
    mesh: {'replica'?, 'data'?, 'mdl'?: size}.
    chip: a `peaks.CHIPS` key.
    remat: one of REMAT_POLICIES.
    num_classes: classifier classes (0: encoder only).
    param_dtype: parameter (and gradient) dtype.
    act_dtype: activation / gathered-weight dtype.
    momentum_dtype: Adafactor first-moment dtype.
    min_dim_size_to_factor: Adafactor factoring threshold.

  Returns:
    The plan with its results.
  """
  for k in mesh:
    if k not in MESH_AXES:
      raise ValueError(f'mesh axis {k!r} not in {MESH_AXES}.')
  if any(v < 1 for v in mesh.values()):
    raise ValueError(f'mesh sizes must be >= 1, got {mesh}.')
  for name, dt in (('param_dtype', param_dtype), ('act_dtype', act_dtype),
                   ('momentum_dtype', momentum_dtype)):
    if dt not in _DTYPE_BYTES:
      raise ValueError(f'{name} {dt!r} not in {tuple(_DTYPE_BYTES)}.')
  if remat not in REMAT_POLICIES:
    raise ValueError(f'remat must be one of {REMAT_POLICIES}, got {remat!r}.')
  chip_row = peaks.get_chip(chip)
  rep, data, tp = (mesh.get('replica', 1), mesh.get('data', 1),
                   mesh.get('mdl', 1))
  dp = rep * data
  if batch <= 0 or batch % dp:
    raise ValueError(f'global batch {batch} must be a positive multiple of '
                     f'the data-parallel size {dp}.')
  enc, variant_name = _encoder(variant, image_size)
  d, f, depth, heads = (enc.model_dims, enc.hidden_dims, enc.num_layers,
                        enc.num_heads)
  if heads % tp or f % tp:
    raise ValueError(f'mdl={tp} must divide heads {heads} and MLP {f}.')
  weights = model_weights(enc, num_classes, mesh)
  pb, ab = _DTYPE_BYTES[param_dtype], _DTYPE_BYTES[act_dtype]
  mb = _DTYPE_BYTES[momentum_dtype]
  smesh = {'replica': rep, 'data': data, 'mdl': tp}
  params = sum(math.prod(w.shape) * w.count for w in weights)
  p_dev = sum(_per_device(w.shape, w.shard, smesh) * w.count for w in weights)
  mom = v = 0
  for w in weights:
    m_, v_ = adafactor_state_elems(w.shape, w.shard, smesh,
                                   min_dim_size_to_factor)
    mom += m_ * w.count
    v += v_ * w.count
  count = flops_lib.encoder_flops(enc, image_size, num_classes)
  tokens = count.tokens
  b_dev = batch // dp
  saved, working = activation_elems_per_token(
      d, f, heads, tokens, tp, remat, depth,
      enc.patch_size**2 * enc.num_channels)

  # One layer's block weights: per device after the mdl split (what FSDP
  # gathers) and their gradient traffic over the batch axes, per the split.
  mdl_only = {'mdl': tp}
  gathered = fsdp_ag = fsdp_rs = grad_ar = 0.0
  for w in weights:
    if not w.is_block:
      continue
    per_layer = w.count / depth  # 1 when scanned; 1/L per unrolled block
    local = _per_device(w.shape, w.shard, mdl_only) * per_layer
    gathered += local
    if 'data' in _split_axes(w):
      fsdp_ag += local * ab * (data - 1) / data
      fsdp_rs += local * pb * (data - 1) / data
    else:
      grad_ar += 2 * local * pb * (data - 1) / data
    grad_ar += 2 * local / data * pb * (rep - 1) / rep
  mem = dict(params=p_dev * pb, grads=p_dev * pb, opt_momentum=mom * mb,
             opt_second_moment=v * 4,
             activations_saved=saved * tokens * b_dev * ab,
             activations_working=working * tokens * b_dev * ab,
             gathered_weights=2 * gathered * ab)
  mem['total'] = sum(mem.values())

  # Communication per block per step, bytes sent per device.
  blk = enc.block_tpl
  n_ag = 1 if blk.parallel else 2   # normalised inputs gathered
  n_rs = 1 if blk.fused else 2      # output matmuls scattered
  tp_one = b_dev * tokens * d * ab * (tp - 1) / tp
  recompute = 1 if remat == 'nothing_saveable' else 0
  # The recomputed forward skips the output matmuls (see
  # `recompute_flops_per_image`), so it gathers again but scatters nothing.
  comm = {
      'fsdp_all_gather_weights(data)': fsdp_ag * (1 + recompute),
      'fsdp_reduce_scatter_grads(data)': fsdp_rs,
      'grad_all_reduce(data,replica)': grad_ar,
      'tp_all_gather_acts_fwd(mdl)': n_ag * tp_one * (1 + recompute),
      'tp_reduce_scatter_acts_fwd(mdl)': n_rs * tp_one,
      'tp_all_gather_acts_bwd(mdl)': n_rs * tp_one,
      'tp_reduce_scatter_acts_bwd(mdl)': n_ag * tp_one,
  }
  data_bytes = sum(v_ for k, v_ in comm.items() if '(data' in k)
  mdl_bytes = sum(v_ for k, v_ in comm.items() if '(mdl)' in k)

  model_flops = count.per_image * batch / (dp * tp)
  hw_flops = model_flops + recompute * recompute_flops_per_image(
      enc, tokens) * batch / (dp * tp)
  peak = chip_row.peak_bf16_flops
  t_compute = hw_flops / peak
  t_data = depth * data_bytes / chip_row.link_bw
  t_mdl = depth * mdl_bytes / chip_row.link_bw
  t_over = max(t_compute, t_data, t_mdl)
  t_serial = t_compute + t_data + t_mdl
  plan = Plan(variant_name, image_size, batch, dict(mesh), chip, remat,
              num_classes, param_dtype, act_dtype, momentum_dtype,
              min_dim_size_to_factor)
  plan.results = dict(
      num_params=params, tokens=tokens, batch_per_device=b_dev,
      flops_per_image=count.per_image, model_flops_per_device=model_flops,
      hw_flops_per_device=hw_flops, memory_bytes=mem,
      hbm_bytes=chip_row.hbm_bytes, fits=mem['total'] <= chip_row.hbm_bytes,
      comm_bytes_per_layer=comm, comm_data_bytes_per_layer=data_bytes,
      # Per block: how many activation collectives over 'mdl' and the bytes
      # one of them sends (all the same size: [B, T, D] / tp).
      comm_ops_per_layer={'mdl_all_gather': n_ag * (1 + recompute) + n_rs,
                          'mdl_reduce_scatter': n_rs + n_ag},
      tp_bytes_per_op=tp_one, act_bytes=ab,
      comm_mdl_bytes_per_layer=mdl_bytes, t_compute_s=t_compute,
      t_comm_data_s=t_data, t_comm_mdl_s=t_mdl, step_s_overlapped=t_over,
      step_s_serial=t_serial,
      mfu_overlapped=model_flops / (t_over * peak),
      mfu_serial=model_flops / (t_serial * peak),
      tokens_per_s_per_chip=batch * tokens / (t_over * dp * tp),
      peak_flops=peak, link_bw=chip_row.link_bw,
      weights=[dict(name=w.name, shape=list(w.shape), count=w.count,
                    shard=list(w.shard))
               for w in weights])
  return plan


def format_plan(plan: Plan) -> str:
  """Human-readable multi-line summary."""
  r = plan.results
  gib = 2.0**30
  mesh = ' x '.join(f'{k}={v}' for k, v in plan.mesh.items())
  lines = [
      f'{plan.variant} {plan.image_size}px ({r["tokens"]} tokens), global '
      f'batch {plan.batch}, mesh {mesh} = {plan.num_chips} x {plan.chip}, '
      f'remat={plan.remat}',
      f'  parameters {r["num_params"] / 1e9:.3f} B; model FLOPs/image '
      f'{r["flops_per_image"] / 1e12:.2f} TFLOP; per device per step '
      f'{r["model_flops_per_device"] / 1e12:.1f} TFLOP model, '
      f'{r["hw_flops_per_device"] / 1e12:.1f} TFLOP executed',
      f'  memory per device (GiB): ' + ', '.join(
          f'{k} {v / gib:.2f}' for k, v in r['memory_bytes'].items()) +
      f' (HBM {r["hbm_bytes"] / gib:.0f} GiB, '
      f'{"fits" if r["fits"] else "DOES NOT FIT"})',
      '  communication per layer per step per device (MB):',
  ]
  lines += [f'    {k}: {v / 1e6:.1f}'
            for k, v in r['comm_bytes_per_layer'].items()]
  lines += [
      f'  time (s): compute {r["t_compute_s"]:.2f}, data-axis comm '
      f'{r["t_comm_data_s"]:.2f}, mdl-axis comm {r["t_comm_mdl_s"]:.2f}',
      f'  predicted step {r["step_s_overlapped"]:.2f} s overlapped '
      f'(MFU {100 * r["mfu_overlapped"]:.1f}%, '
      f'{r["tokens_per_s_per_chip"]:.0f} tokens/s/chip), '
      f'{r["step_s_serial"]:.2f} s serial (MFU '
      f'{100 * r["mfu_serial"]:.1f}%); upper bounds at peak FLOP/s '
      f'{r["peak_flops"] / 1e12:.0f} T, link {r["link_bw"] / 1e9:.0f} GB/s',
  ]
  return '\n'.join(lines)


def parse_mesh(text: str) -> dict[str, int]:
  """'data=256,mdl=4' -> {'data': 256, 'mdl': 4}."""
  mesh = {}
  for part in str(text).split(','):
    key, _, val = part.partition('=')
    if not key or not val.isdigit():
      raise ValueError(f'Bad --mesh entry {part!r} in {text!r}; expected '
                       'e.g. data=256,mdl=4.')
    mesh[key.strip()] = int(val)
  return mesh


def xla_memory_stats(lowered) -> dict[str, int]:
  """Per-device argument / output / alias / temp bytes of an XLA-compiled
  step: `compiled.memory_analysis()`, or where the backend leaves it empty
  (CPU in jaxlib 0.4.26) XLA's own buffer assignment
  (`perf.compiled.buffer_stats`)."""
  compiled, _, buffers = compiled_lib.compile_with_dump(lowered)
  ma = compiled.memory_analysis()
  if ma is not None and (ma.argument_size_in_bytes or ma.temp_size_in_bytes):
    return dict(argument=ma.argument_size_in_bytes,
                output=ma.output_size_in_bytes,
                alias=ma.alias_size_in_bytes, temp=ma.temp_size_in_bytes)
  return compiled_lib.buffer_stats(buffers)
