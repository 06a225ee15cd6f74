# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Scale plan: memory, communication and step time of a sharded ViT-22B step.

An analytic model of one training step of the ViT-22B layout (paper §3,
"asynchronous parallel linear operations"; VIT22B.md §2.1) on a 2-D mesh
data x mdl:

* weights of every matrix are sharded over both axes (FSDP over 'data',
  tensor parallel over 'mdl'); 1-D weights (biases, norm scales) replicated;
* activations [B, T, D] are split over 'data' on B and over 'mdl' on D;
  every block all-gathers its normalised input over 'mdl' before the fused
  input matmul and reduce-scatters the fused output matmul's result;
* weights are all-gathered over 'data' before use and their gradients
  reduce-scattered over 'data' (ZeRO-3);
* memory also counts the FSDP-gathered weights of two blocks (the one in
  use and the next one being fetched, in the compute dtype) and float32
  gradients sharded like the parameters;
* optimizer: the paper's Adafactor: bf16 first moment, factored float32
  second moment (row + column statistics) for matrices whose two largest
  dims are >= `min_dim_size_to_factor`, full float32 otherwise.

Block einsum letters follow `vit22b_pax.layers.parallel_block`: B batch,
T tokens, D width, N heads, H head dim, F MLP width.

Remat policies: 'full' saves every residual the backward needs (no remat);
'nothing_saveable' keeps only each block's input and recomputes the block in
the backward pass (one extra forward: hardware FLOPs 8N instead of 6N per
token, and a second weight all-gather / activation all-gather per block).

Step time: compute at peak FLOP/s and each collective at `Chip.link_bw`
(one mesh axis = one torus dimension / NVLink ring, the two axes on
different links). 'overlapped' assumes every collective hides behind the
block's matmuls (the paper's async design) so a block costs the maximum of
the three; 'serial' adds them. Both ignore non-matmul time, so the MFU they
give is an upper bound.
"""

from __future__ import annotations

import dataclasses
import math

from vit22b_pax.perf import flops as flops_lib
from vit22b_pax.perf import peaks

REMAT_POLICIES = ('full', 'nothing_saveable')
_DTYPE_BYTES = {'float32': 4, 'bfloat16': 2, 'float16': 2}


@dataclasses.dataclass(frozen=True)
class Weight:
  """One parameter tensor of the model.

  Attributes:
    name: path-like name.
    shape: full (global) shape.
    count: how many tensors of this shape (e.g. one per layer).
    shard: mesh axis (or None) per dim, as used for per-device bytes.
  """

  name: str
  shape: tuple[int, ...]
  count: int
  shard: tuple[str | None, ...]


def model_weights(variant: str, image_size: int = 224,
                  num_classes: int = 1000, channels: int = 3
                  ) -> list[Weight]:
  """The fused parallel ViT-22B model's parameter tensors.

  Layout of `vit22b_pax.layers.parallel_block` (fused=True): per block
  w_in [D, N, 3H + G] sharded (data, mdl, -) and w_out [N, H + G, D]
  sharded (mdl, -, data), G = F / N; patch embedding, position embedding
  and head [., .] sharded (data, mdl); vectors replicated.
  """
  var, patch, _ = flops_lib.resolve_variant(variant)
  if image_size <= 0 or image_size % patch:
    raise ValueError(f'image_size must be a positive multiple of the patch '
                     f'size {patch}, got {image_size}.')
  d, f, depth = var.model_dims, var.hidden_dims, var.num_layers
  h, n = var.dim_per_head, var.num_heads
  if f % n:
    raise ValueError(f'MLP width {f} must be a multiple of heads {n}.')
  g = f // n
  tokens = (image_size // patch) ** 2
  out = [
      Weight('block/w_in', (d, n, 3 * h + g), depth, ('data', 'mdl', None)),
      Weight('block/w_out', (n, h + g, d), depth, ('mdl', None, 'data')),
      Weight('block/b_mlp_in', (f,), depth, (None,)),
      Weight('block/b_out', (d,), depth, (None,)),
      Weight('block/norm', (d,), depth, (None,)),
      Weight('block/qk_norm', (h,), 2 * depth, (None,)),
      Weight('stem/w', (patch * patch * channels, d), 1, ('data', 'mdl')),
      Weight('stem/b', (d,), 1, (None,)),
      Weight('stem/posemb', (tokens, d), 1, ('data', 'mdl')),
      Weight('exit/norm', (d,), 1, (None,)),
  ]
  if num_classes:
    out += [Weight('head/w', (d, num_classes), 1, ('data', 'mdl')),
            Weight('head/b', (num_classes,), 1, (None,))]
  return out


def _per_device(shape, shard, mesh: dict[str, int]) -> int:
  n = 1
  for size, axis in zip(shape, shard):
    n *= math.ceil(size / (mesh.get(axis, 1) if axis else 1))
  return n


def adafactor_state_elems(shape, shard, mesh, min_dim_size_to_factor=32
                          ) -> tuple[int, int]:
  """(momentum elements, float32 second-moment elements) per device."""
  mom = _per_device(shape, shard, mesh)
  if len(shape) >= 2 and sorted(shape)[-2] >= min_dim_size_to_factor:
    order = sorted(range(len(shape)), key=lambda i: shape[i])
    r, c = order[-2], order[-1]
    row = [s for i, s in enumerate(shape) if i != c]
    row_sh = [a for i, a in enumerate(shard) if i != c]
    col = [s for i, s in enumerate(shape) if i != r]
    col_sh = [a for i, a in enumerate(shard) if i != r]
    return mom, (_per_device(row, row_sh, mesh) +
                 _per_device(col, col_sh, mesh))
  return mom, mom


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


def make_plan(variant: str, image_size: int, batch: int,
              mesh: dict[str, int], chip: str, remat: str = 'nothing_saveable',
              num_classes: int = 1000, param_dtype: str = 'float32',
              act_dtype: str = 'bfloat16', momentum_dtype: str = 'bfloat16',
              min_dim_size_to_factor: int = 32,
              num_params: float | None = None) -> Plan:
  """Builds the plan; see the module docstring for the model."""
  for k in mesh:
    if k not in ('data', 'mdl', 'replica'):
      raise ValueError(f'mesh axis {k!r} not in (replica, data, mdl).')
  if any(v < 1 for v in mesh.values()):
    raise ValueError(f'mesh sizes must be >= 1, got {mesh}.')
  for name, dt in (('param_dtype', param_dtype), ('act_dtype', act_dtype),
                   ('momentum_dtype', momentum_dtype)):
    if dt not in _DTYPE_BYTES:
      raise ValueError(f'{name} {dt!r} not in {tuple(_DTYPE_BYTES)}.')
  if remat not in REMAT_POLICIES:
    raise ValueError(f'remat must be one of {REMAT_POLICIES}, got {remat!r}.')
  chip_row = peaks.get_chip(chip)
  dp = mesh.get('data', 1) * mesh.get('replica', 1)
  tp = mesh.get('mdl', 1)
  if batch <= 0 or batch % dp:
    raise ValueError(f'global batch {batch} must be a positive multiple of '
                     f'the data-parallel size {dp}.')
  var, patch, variant_name = flops_lib.resolve_variant(variant)
  d, f, depth, heads = (var.model_dims, var.hidden_dims, var.num_layers,
                        var.num_heads)
  if heads % tp or f % tp:
    raise ValueError(f'mdl={tp} must divide heads {heads} and MLP {f}.')
  weights = model_weights(variant, image_size, num_classes)
  pb, ab = _DTYPE_BYTES[param_dtype], _DTYPE_BYTES[act_dtype]
  mb = _DTYPE_BYTES[momentum_dtype]
  smesh = {'data': mesh.get('data', 1), 'mdl': tp}
  params = sum(math.prod(w.shape) * w.count for w in weights)
  p_dev = sum(_per_device(w.shape, w.shard, smesh) * w.count for w in weights)
  mom = v = 0
  for w in weights:
    m_, v_ = adafactor_state_elems(w.shape, w.shard, smesh,
                                   min_dim_size_to_factor)
    mom += m_ * w.count
    v += v_ * w.count
  count = flops_lib.vit_flops(variant, image_size, num_classes,
                              num_params=num_params or params)
  tokens = count.tokens
  b_dev = batch // dp
  saved, working = activation_elems_per_token(
      d, f, heads, tokens, tp, remat, depth, patch * patch * 3)
  mem = dict(params=p_dev * pb, grads=p_dev * pb, opt_momentum=mom * mb,
             opt_second_moment=v * 4,
             activations_saved=saved * tokens * b_dev * ab,
             activations_working=working * tokens * b_dev * ab,
             gathered_weights=2 * (d * (3 * d + f) + (d + f) * d) / tp * ab)
  mem['total'] = sum(mem.values())

  # Communication per block per step, bytes received per device.
  layer_w = (d * (3 * d + f) + (d + f) * d)
  fsdp_ag = layer_w / tp * ab * (smesh['data'] - 1) / smesh['data']
  fsdp_rs = layer_w / tp * pb * (smesh['data'] - 1) / smesh['data']
  tp_one = b_dev * tokens * d * ab * (tp - 1) / tp
  recompute = 1 if remat == 'nothing_saveable' else 0
  comm = {
      'fsdp_all_gather_weights(data)': fsdp_ag * (1 + recompute),
      'fsdp_reduce_scatter_grads(data)': fsdp_rs,
      'tp_all_gather_acts_fwd(mdl)': tp_one * (1 + recompute),
      'tp_reduce_scatter_acts_fwd(mdl)': tp_one * (1 + recompute),
      'tp_all_gather_acts_bwd(mdl)': tp_one,
      'tp_reduce_scatter_acts_bwd(mdl)': tp_one,
  }
  data_bytes = sum(v_ for k, v_ in comm.items() if '(data)' in k)
  mdl_bytes = sum(v_ for k, v_ in comm.items() if '(mdl)' in k)

  model_flops = count.per_image * batch / (dp * tp)
  hw_flops = model_flops + recompute * count.forward_per_image * batch / (
      dp * tp)
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
      comm_mdl_bytes_per_layer=mdl_bytes, t_compute_s=t_compute,
      t_comm_data_s=t_data, t_comm_mdl_s=t_mdl, step_s_overlapped=t_over,
      step_s_serial=t_serial,
      mfu_overlapped=model_flops / (t_over * peak),
      mfu_serial=model_flops / (t_serial * peak),
      tokens_per_s_per_chip=batch * tokens / (t_over * dp * tp),
      peak_flops=peak, link_bw=chip_row.link_bw)
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
  """Per-device argument / output / temp bytes of an XLA-compiled step.

  Uses `compiled.memory_analysis()`; where the backend leaves it empty (CPU
  in jaxlib 0.4.26) the same numbers are read from XLA's own buffer
  assignment of the compiled module (`xla_dump_to`).
  """
  import glob  # pylint: disable=g-import-not-at-top
  import re  # pylint: disable=g-import-not-at-top
  import tempfile  # pylint: disable=g-import-not-at-top
  with tempfile.TemporaryDirectory() as tmp:
    compiled = lowered.compile(compiler_options={'xla_dump_to': tmp})
    ma = compiled.memory_analysis()
    if ma is not None and (ma.argument_size_in_bytes or
                           ma.temp_size_in_bytes):
      return dict(argument=ma.argument_size_in_bytes,
                  output=ma.output_size_in_bytes,
                  alias=ma.alias_size_in_bytes, temp=ma.temp_size_in_bytes)
    files = glob.glob(f'{tmp}/*after_optimizations-buffer-assignment.txt')
    if not files:
      raise RuntimeError('XLA wrote no buffer assignment; cannot measure.')
    text = open(max(files, key=len)).read()
  stats = dict(argument=0, output=0, alias=0, temp=0)
  for m in re.finditer(r'^allocation \d+: size (\d+), (.*)$', text, re.M):
    size, desc = int(m.group(1)), m.group(2)
    if 'parameter' in desc:
      stats['argument'] += size
      if 'maybe-live-out' in desc:
        stats['alias'] += size
    elif 'output shape' in desc or 'maybe-live-out' in desc:
      stats['output'] += size
    elif 'thread-local' not in desc and 'constant' not in desc:
      stats['temp'] += size
  return stats
