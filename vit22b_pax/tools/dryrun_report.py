# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The dry run's report: the compiled step next to the scale plan.

`analyse` compiles a `tools.dryrun.Step` once and gathers, per device:
memory (XLA's buffer assignment; arguments split by train-state leaf into
parameters, optimizer state and batch), matmul FLOPs (loop bodies times
their trip counts) and XLA's own cost analysis, collectives by kind and
mesh axis per block and per step, the saved activations a scanned encoder
stacks for its backward pass, every tensor of >= 1 MiB per device that is
replicated over an axis the plan splits it on, and `runtime/plan.make_plan`
for the same model, batch and mesh. `reconcile` puts plan and compiler side
by side and attaches the reason to every difference over 10%.
"""

from __future__ import annotations

import math
import re
from typing import Any

import jax
import numpy as np

from vit22b_pax.core import hlo
from vit22b_pax.layers import encoder as encoder_lib
from vit22b_pax.perf import compiled as compiled_lib
from vit22b_pax.perf import peaks
from vit22b_pax.runtime import plan as plan_lib

MIB = 2.0**20
GIB = 2.0**30
TOLERANCE = 0.10
REPLICATED_MIN_BYTES = MIB
# Device memories the per-device total is compared with (GiB).
MEMORIES = (('TPU v4', 32.0), ('TPU v5e', 16.0), ('H100', 80.0))


def _path_str(path) -> str:
  return '/'.join(str(getattr(k, 'key', getattr(k, 'name', getattr(
      k, 'idx', k)))) for k in path)


def _category(path: str) -> str:
  if path.startswith('mdl_vars/params/'):
    return 'params'
  if path.startswith('mdl_vars/'):
    return 'other_state'
  m = re.search(r'/(m|v_row|v_col|v)/params/', path)
  if path.startswith('opt_states/') and m:
    return 'opt_momentum' if m.group(1) == 'm' else 'opt_second_moment'
  return 'other_state'


def _spec_axes(sharding, rank: int) -> list[Any]:
  spec = list(getattr(sharding, 'spec', ()) or ())
  spec += [None] * (rank - len(spec))
  return [tuple(e) if isinstance(e, (list, tuple)) else e for e in spec]


def leaf_table(state) -> list[dict]:
  """Per train-state leaf: path, shape, dtype, category, per-device bytes
  and the mesh axes it is sharded over (the step's arguments carry the
  shardings paxml's partitioner gives them, and the compiled step takes
  them as they are)."""
  out = []
  for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]:
    sh = leaf.sharding
    shape = tuple(leaf.shape)
    local = sh.shard_shape(shape) if shape else ()
    name = _path_str(path)
    out.append(dict(
        path=name, shape=list(shape), dtype=str(leaf.dtype),
        category=_category(name),
        bytes=int(math.prod(local) * np.dtype(leaf.dtype).itemsize),
        local_shape=list(local), spec=[
            list(a) if isinstance(a, tuple) else a
            for a in _spec_axes(sh, len(shape))]))
  return out


def _expected_local(shape, shard, mesh: dict[str, int]) -> list[int]:
  return [math.ceil(s / math.prod(mesh.get(a, 1)
                                  for a in plan_lib.axes_of(e)))
          for s, e in zip(shape, shard)]


def replicated_against_plan(leaves: list[dict], weights: list[dict],
                            mesh: dict[str, int], min_dim: int,
                            min_bytes: float = REPLICATED_MIN_BYTES
                            ) -> list[dict]:
  """Leaves of >= min_bytes per device that the plan splits over an axis
  that XLA does not split them on (parameters and optimizer slots)."""
  by_name = {w['name']: w for w in weights}
  bad = []
  for leaf in leaves:
    if leaf['category'] == 'other_state' or leaf['bytes'] < min_bytes:
      continue
    m = re.match(r'(?:mdl_vars|opt_states/.*?/(m|v_row|v_col|v))/params/'
                 r'(.*)$', leaf['path'])
    if not m or m.group(2) not in by_name:
      continue
    w = by_name[m.group(2)]
    prefix = len(leaf['shape']) - len(w['shape'])
    slots = plan_lib.adafactor_slots(w['shape'], w['shard'], min_dim)
    slot = m.group(1) or 'param'
    if slot not in slots:
      continue
    shape, shard = slots[slot]
    shard = [None] * prefix + list(shard)
    if len(shard) != len(leaf['shape']):
      continue
    want = _expected_local(leaf['shape'], shard, mesh)
    missing = sorted({a for e, have, exp in zip(shard, leaf['local_shape'],
                                                want) if have > exp
                      for a in plan_lib.axes_of(e)})
    if missing:
      bad.append(dict(path=leaf['path'], mib=leaf['bytes'] / MIB,
                      plan_spec=[list(plan_lib.axes_of(e)) or None
                                 for e in shard],
                      compiled_spec=leaf['spec'], replicated_over=missing))
  return bad


def _plan_for(step) -> plan_lib.Plan:
  model = step.task_p.model
  enc = model.network_tpl
  remat = ('nothing_saveable' if enc.remat_policy is not None and
           encoder_lib.checkpoint_type(enc.remat_policy).name ==
           'SAVE_NOTHING' else 'full')
  opt = step.task_p.train.learner.optimizer
  mesh = dict(zip(('replica', 'data', 'mdl'), model.ici_mesh_shape))
  image = step.specs['image'].shape
  return plan_lib.make_plan(
      enc, image[1], step.batch, mesh, step.chip, remat,
      num_classes=step.specs['label_probs'].shape[-1],
      param_dtype=np.dtype(model.dtype).name,
      act_dtype=np.dtype(model.fprop_dtype).name,
      momentum_dtype=np.dtype(getattr(opt, 'momentum_dtype', 'bfloat16')
                              ).name,
      min_dim_size_to_factor=getattr(opt, 'min_dim_size_to_factor', 32))


def analyse(step, chip: str = 'tpu-v4',
            min_bytes: float = REPLICATED_MIN_BYTES,
            save_hlo: str | None = None) -> dict:
  """Compiles `step.lowered` and builds the report (see module doc).

  Args:
    step: `tools.dryrun.build`'s result.
    chip: the plan's chip (`perf/peaks.CHIPS`).
    min_bytes: per-device size from which a tensor replicated against the
      plan is reported.
    save_hlo: write the optimized HLO text here.
  """
  peaks.get_chip(chip)
  step.chip = chip
  compiled, text, buffers = compiled_lib.compile_with_dump(step.lowered)
  if save_hlo:
    with open(save_hlo, 'w') as f:
      f.write(text)
  mesh_shape = list(step.task_p.model.ici_mesh_shape)
  axis_names = list(step.task_p.model.mesh_axis_names)
  mesh = dict(zip(axis_names, mesh_shape))
  enc = step.task_p.model.network_tpl
  layers = enc.num_layers
  b_dev = step.batch // (mesh_shape[0] * mesh_shape[1])

  plan = _plan_for(step)
  pr = plan.results
  leaves = leaf_table(step.state)
  batch_bytes = sum(
      math.prod(x.sharding.shard_shape(x.shape)) * np.dtype(x.dtype).itemsize
      for x in jax.tree_util.tree_leaves(step.inputs))
  by_cat: dict[str, int] = {}
  for leaf in leaves:
    by_cat[leaf['category']] = by_cat.get(leaf['category'], 0) + leaf['bytes']
  mem = compiled_lib.buffer_stats(buffers)

  mod = hlo.Module(text)
  rows, loops = compiled_lib.collective_table(text, mesh_shape, axis_names,
                                              layers, mod=mod)
  scanned = any(t == layers for t in loops.trips.values())
  per_block = (compiled_lib.bytes_by_axis(rows, True, layers)
               if scanned else None)
  residuals = (compiled_lib.stacked_residuals(text, layers, b_dev, mod=mod)
               if scanned else [])
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  replicated = replicated_against_plan(
      leaves, pr['weights'], mesh, plan.min_dim_size_to_factor, min_bytes)

  report = dict(
      experiment=getattr(step, 'name', type(step.exp).__name__),
      mesh=mesh, devices=int(np.prod(mesh_shape)), global_batch=step.batch,
      batch_per_data_shard=b_dev, layers=layers, scanned=scanned,
      memory_bytes=dict(
          xla_arguments=mem['argument'], xla_outputs=mem['output'],
          xla_alias=mem['alias'], xla_temp=mem['temp'],
          xla_total=mem['argument'] + mem['output'] + mem['temp'],
          params=by_cat.get('params', 0),
          opt_momentum=by_cat.get('opt_momentum', 0),
          opt_second_moment=by_cat.get('opt_second_moment', 0),
          other_state=by_cat.get('other_state', 0), batch=int(batch_bytes),
          saved_activations=int(sum(b for _, b in residuals))),
      saved_activation_buffers=[s for s, _ in residuals],
      flops=dict(hlo_matmul=compiled_lib.matmul_flops(mod, loops),
                 xla_cost_analysis=float(cost.get('flops', 0.0)),
                 plan_model=pr['model_flops_per_device'],
                 plan_executed=pr['hw_flops_per_device']),
      loop_trip_counts=loops.trips,
      collectives=[dict(kind=r.kind, axes=list(r.axes), in_layer=r.in_layer,
                        ops=r.ops, async_ops=r.async_ops,
                        per_step=r.per_step,
                        bytes_per_step=r.bytes_per_step) for r in rows],
      collective_bytes_per_block=per_block,
      largest_collectives=compiled_lib.largest_collectives(
          text, mesh_shape, axis_names, layers, mod=mod),
      largest_temps=compiled_lib.largest_temps(buffers),
      collective_bytes_per_step=compiled_lib.bytes_by_axis(rows, None),
      replicated_against_plan=replicated,
      plan=dict(chip=chip, remat=plan.remat,
                memory_bytes=pr['memory_bytes'],
                comm_bytes_per_layer=pr['comm_bytes_per_layer'],
                comm_ops_per_layer=pr['comm_ops_per_layer'],
                tp_bytes_per_op=pr['tp_bytes_per_op'],
                act_bytes=pr['act_bytes'],
                fits=pr['fits']),
      leaves=[l for l in leaves if l['bytes'] >= min_bytes],
  )
  report['reconcile'] = reconcile(report)
  total = report['memory_bytes']['xla_total'] / GIB
  report['fits'] = {name: total <= gib for name, gib in MEMORIES}
  return report


def _axis_bytes(d: dict[str, float] | None, axis: str) -> float | None:
  if d is None:
    return None
  return sum(v for k, v in d.items() if k.split('+') == [axis])


def reconcile(report: dict) -> list[dict]:
  """Plan vs compiled, per item, with the reason for any > 10% gap."""
  m, pm = report['memory_bytes'], report['plan']['memory_bytes']
  fl = report['flops']
  comm = report['plan']['comm_bytes_per_layer']
  plan_data = sum(v for k, v in comm.items() if '(data' in k)
  plan_mdl = sum(v for k, v in comm.items() if '(mdl)' in k)
  blk = report['collective_bytes_per_block']
  rows = [
      ('parameters', pm['params'], m['params'],
       'padding of dims the mesh does not divide'),
      ('optimizer momentum', pm['opt_momentum'], m['opt_momentum'],
       'padding of dims the mesh does not divide'),
      ('optimizer second moment', pm['opt_second_moment'],
       m['opt_second_moment'],
       'factored statistics of small tensors are replicated placeholders'),
      ('saved activations (layer stack)',
       pm['activations_saved'] if report['scanned'] else None,
       m['saved_activations'] if report['scanned'] else None,
       'the plan also counts the patches and exit norm (outside the stack)'),
      ('gradients + activations + gathered weights vs XLA temp',
       pm['grads'] + pm['activations_saved'] + pm['activations_working'] +
       pm['gathered_weights'], m['xla_temp'],
       'XLA temp also holds what the plan leaves out: buffers of the '
       'collectives (on XLA:CPU f32 copies of [B T, D] for the promoted '
       'all-reduces), the batch in the compute dtype, the head and the '
       'update; see "Largest temp values"'),
      ('total', pm['total'], m['xla_total'],
       'the temp gap above'),
      ('matmul FLOPs (plan executed vs HLO dots)', fl['plan_executed'],
       fl['hlo_matmul'],
       'the plan counts non-matmul work (norms, softmax) as FLOPs'),
      ('data-axis bytes per block', plan_data,
       _axis_bytes(blk, 'data'), ''),
      ('mdl-axis bytes per block', plan_mdl, _axis_bytes(blk, 'mdl'), ''),
  ]
  out = []
  for item, plan, comp, why in rows:
    if plan is None or comp is None:
      out.append(dict(item=item, plan=plan, compiled=comp, ratio=None,
                      within=None, note='not measured (unscanned model: no '
                      'layer loop to attribute per-block traffic to)'))
      continue
    ratio = comp / plan if plan else (1.0 if not comp else math.inf)
    within = abs(ratio - 1.0) <= TOLERANCE
    note = '' if within else why
    if not within and item.startswith('mdl-axis'):
      note = _mdl_note(report, comp)
    if not within and item.startswith('data-axis'):
      note = _data_note(report, comp)
    out.append(dict(item=item, plan=plan, compiled=comp, ratio=ratio,
                    within=within, note=note))
  return out


def _block_runs(report: dict, kind: str, axis: str) -> float:
  """Executions per block of one collective kind on one mesh axis."""
  return sum(c['per_step'] for c in report['collectives']
             if c['in_layer'] and c['kind'] == kind and c['axes'] == [axis]
             ) / report['layers']


def _mdl_note(report: dict, compiled: float) -> str:
  """The mdl-axis gap in units of the plan's one activation collective (a
  [B, T, D] / mdl exchange in the compute dtype), by the form XLA chose."""
  p = report['plan']
  one, ops = p['tp_bytes_per_op'], p['comm_ops_per_layer']
  units = {}
  for c in report['collectives']:
    if c['in_layer'] and c['axes'] == ['mdl']:
      units[c['kind']] = units.get(c['kind'], 0.0) + (
          c['bytes_per_step'] / report['layers'] / one)
  planned = ops['mdl_all_gather'] + ops['mdl_reduce_scatter']
  parts = [f'compiled = {compiled / one:.1f} units of one [B T, D]/mdl '
           f'exchange ({one / GIB:.2f} GiB), the plan {planned} '
           f'({ops["mdl_all_gather"]} all-gathers: forward, recomputed '
           f'forward, backward of the output matmul; '
           f'{ops["mdl_reduce_scatter"]} reduce-scatters)']
  parts += [f'{k} {v:.1f}' for k, v in sorted(units.items())]
  why = []
  if units.get('all-gather', 0) > ops['mdl_all_gather'] + 0.5:
    why.append('XLA gathers the normalised input and the output gradient '
               'again for the weight gradients instead of keeping the '
               'first gathers')
  if units.get('all-reduce', 0) > 0.5 and not units.get('reduce-scatter'):
    why.append('XLA:CPU has no reduce-scatter: all-reduce + slice (2x the '
               'ring bytes) promoted from bf16 to f32 (2x): 4 units each')
  if units.get('collective-permute', 0) > 0.5:
    why.append('ring collective matmuls: all-gather rings pass bf16 blocks '
               '(1 unit a ring), reduce-scatter rings f32 partial sums '
               '(accum_dtype float32: 2 units), and the all-gather ring\'s '
               'backward passes the input blocks again for the weight '
               'gradient')
  return '; '.join(parts) + ('. ' + '; '.join(why) if why else '')


def _data_note(report: dict, compiled: float) -> str:
  """The data-axis gap: FSDP gradients all-reduced instead of scattered."""
  comm = report['plan']['comm_bytes_per_layer']
  if report['mesh'].get('data', 1) == 1:
    return 'data axis of size 1: no data-axis traffic'
  if _block_runs(report, 'reduce-scatter', 'data') == 0 and _block_runs(
      report, 'all-reduce', 'data'):
    rs = comm['fsdp_reduce_scatter_grads(data)']
    forms = sum(v for k, v in comm.items() if '(data' in k) + rs
    return ('XLA:CPU all-reduces the FSDP gradients where the plan (and '
            'TPU/GPU) reduce-scatter them: 2x their ring bytes. The plan in '
            f'that form: {forms / GIB:.3f} GiB, compiled / that = '
            f'{compiled / forms:.2f}')
  return 'see the collective table'


def _size(b: float) -> str:
  for unit, scale in (('GiB', GIB), ('MiB', MIB), ('KiB', 1024.0)):
    if abs(b) >= scale:
      return f'{b / scale:8.2f} {unit}'
  return f'{b:8.0f} B  '


def format_report(r: dict) -> str:
  """The report as text tables."""
  g = _size
  m = r['memory_bytes']
  lines = [
      f'{r["experiment"]}',
      f'mesh {r["mesh"]} = {r["devices"]} devices, global batch '
      f'{r["global_batch"]} ({r["batch_per_data_shard"]} per data shard), '
      f'{r["layers"]} layers{" (scanned)" if r["scanned"] else ""}',
      '', 'Per-device memory (XLA buffer assignment)',
      f'  parameters         {g(m["params"])}',
      f'  optimizer m        {g(m["opt_momentum"])}',
      f'  optimizer v        {g(m["opt_second_moment"])}',
      f'  batch              {g(m["batch"])}',
      f'  arguments (all)    {g(m["xla_arguments"])}',
      f'  temp               {g(m["xla_temp"])}',
      f'  outputs (not alias){g(m["xla_outputs"])}',
      f'  total              {g(m["xla_total"])}   ' + ', '.join(
          f'{n} {v:.0f} GiB: {"fits" if r["fits"][n] else "DOES NOT FIT"}'
          for n, v in MEMORIES),
  ]
  if r['scanned']:
    lines.append(f'  saved activations  {g(m["saved_activations"])}   '
                 f'{", ".join(r["saved_activation_buffers"])}')
  fl = r['flops']
  lines += ['', 'FLOPs per device per step',
            f'  HLO matmuls x trip counts {fl["hlo_matmul"]:12.4g}',
            f'  XLA cost_analysis         {fl["xla_cost_analysis"]:12.4g}'
            '   (loop bodies counted once)',
            f'  plan, executed            {fl["plan_executed"]:12.4g}',
            f'  plan, model (6N + 12LDT)  {fl["plan_model"]:12.4g}',
            '', 'Collectives (bytes one device sends, ring model)',
            f'  {"kind":20s} {"axes":10s} {"where":6s} {"ops":>4s} '
            f'{"async":>5s} {"runs":>6s} {"per step":>12s}']
  for c in r['collectives']:
    lines.append(f'  {c["kind"]:20s} {"+".join(c["axes"]) or "-":10s} '
                 f'{"block" if c["in_layer"] else "other":6s} {c["ops"]:4d} '
                 f'{c["async_ops"]:5d} {c["per_step"]:6d} '
                 f'{_size(c["bytes_per_step"]):>12s}')
  lines += ['', 'Largest collectives (per step)']
  for c in r['largest_collectives'][:6]:
    lines.append(f'  {_size(c["bytes_per_step"])} {c["kind"]:14s} '
                 f'{"+".join(c["axes"]):9s} {c["shape"]:28s} x{c["runs"]:<4d} '
                 f'{c["op"][-60:]}')
  lines += ['', 'Largest temp values (XLA buffer assignment)']
  for t in r['largest_temps'][:6]:
    lines.append(f'  {_size(t["bytes"])} {t["shape"]:32s} {t["name"]}')
  lines += ['', 'Replicated against the plan (large tensors): ' +
            (str(len(r['replicated_against_plan'])) or 'none')]
  for b in r['replicated_against_plan'][:20]:
    lines.append(f'  {b["path"]}: {b["mib"]:.1f} MiB, plan {b["plan_spec"]}'
                 f', compiled {b["compiled_spec"]}, replicated over '
                 f'{b["replicated_over"]}')
  lines += ['', 'Plan vs compiled (per device)',
            f'  {"item":56s} {"plan":>12s} {"compiled":>12s} {"ratio":>6s}']
  for c in r['reconcile']:
    fmt = lambda v: '-' if v is None else (
        f'{v:10.4g}' if 'FLOPs' in c['item'] else _size(v))
    ratio = '-' if c['ratio'] is None else f'{c["ratio"]:6.2f}'
    lines.append(f'  {c["item"]:56s} {fmt(c["plan"]):>12s} '
                 f'{fmt(c["compiled"]):>12s} {ratio:>6s}' +
                 (f'  ({c["note"]})' if c['note'] else ''))
  if 'timing_s' in r:
    lines.append(f'\nbuild+lower {r["timing_s"]["build_and_lower"]} s, '
                 f'compile+analyse {r["timing_s"]["compile_and_analyse"]} s')
  return '\n'.join(lines)
