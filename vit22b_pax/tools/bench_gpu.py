# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Accelerator benchmark of the pure-JAX block (no praxis), bf16.

Runs on current jax and on jax 0.4.26; imports only jax, numpy and
`vit22b_pax.core` / `collective_matmul` / `perf.peaks`.

(a) Parallel vs sequential block: one train step (forward, backward, SGD
    update of the block's bf16 parameters) of the fused parallel ViT-22B
    block and of the standard sequential block, at the widths of g/14,
    G/14, e/14 and 22B/14 (256 tokens: 224 px, patch 14). The batch is
    sized to memory: per-example bytes from XLA's memory analysis of the
    compiled step (at batch 1 and 2), largest power of two using at most
    `--mem_fraction` of the device. Steps are interleaved (>= 7 rounds);
    it reports best / median step, the paired parallel-over-sequential
    ratio per round (median), and MFU at the best step against the card's
    dense bf16 peak (`perf.peaks` table; measured when the card is not in
    it).
(b) Ring collective matmuls vs XLA's default partitioning vs XLA's
    windowed einsum, on the devices there are:
    * >= 2 devices: step time (forward + backward) of the tensor-parallel
      block on a (1, 1, k) mesh, 'xla' / 'ring' / 'ring_bidi' columns, and
      'windowed' (XLA default partitioning with
      --xla_gpu_threshold_for_windowed_einsum_mib=0, in a child process;
      GPU only);
    * always: the per-device compute of a ring (k partial matmuls chained
      as the ring chains them) against the one matmul it replaces;
    * one GPU: the 8-device program compiled under a mocked topology
      (`jax_mock_gpu_topology=1x8x1`, child process): per column, how many
      matmuls the schedule places between each collective's start and done
      (what can hide it), and the collectives it has.
Prints tables and the device, and writes everything (every step time) as
JSON. `--smoke`: tiny widths, float32, runs on CPU in seconds (8 fake
devices when XLA_FLAGS gives them).

  python -m vit22b_pax.tools.bench_gpu --json bench_gpu.json
  python -m vit22b_pax.tools.bench_gpu --smoke --json /tmp/smoke.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import jax
from jax import numpy as jnp
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np

from vit22b_pax.core import block as core_block
from vit22b_pax.core import compat
from vit22b_pax.core import hlo
from vit22b_pax.core import sizes
from vit22b_pax.core import tensor_parallel as tp
from vit22b_pax.perf import peaks

AXES = ('replica', 'data', 'mdl')
WINDOWED_FLAG = '--xla_gpu_threshold_for_windowed_einsum_mib=0'
MOCK_TOPOLOGY = '1x8x1'


@dataclasses.dataclass(frozen=True)
class Width:
  name: str
  model_dims: int
  hidden_dims: int
  num_heads: int


def widths(smoke: bool) -> list[Width]:
  if smoke:
    return [Width('smoke', 64, 256, 8)]
  return [Width(n, sizes.VARIANTS[n].model_dims, sizes.VARIANTS[n].hidden_dims,
                sizes.VARIANTS[n].num_heads) for n in ('g', 'G', 'e', '22B')]


def block_cfg(w: Width, parallel: bool) -> core_block.BlockConfig:
  return core_block.BlockConfig(w.model_dims, w.num_heads, w.hidden_dims,
                                parallel=parallel, fused=parallel)


def device_info() -> dict[str, Any]:
  d = jax.devices()[0]
  return dict(platform=d.platform, device_kind=d.device_kind,
              device_count=jax.device_count(), jax=jax.__version__,
              host_cpus=os.cpu_count())


def peak_flops(dtype: str, steps: int) -> tuple[float, str]:
  """The card's dense bf16 peak, or a measured matmul peak."""
  kind = jax.devices()[0].device_kind
  key = peaks.chip_from_device_kind(kind)
  if key is not None and dtype == 'bfloat16':
    return peaks.PEAK_BF16_FLOPS[key], f'{key} dense bf16 (table)'
  sizes_ = (256, 512) if jax.devices()[0].platform == 'cpu' else (
      4096, 8192)
  rate = peaks.best_rate(peaks.matmul_times(sizes_, steps, dtype))
  return rate, f'measured {dtype} matmul on {kind} (best of {steps})'


def _timed(fn, *args) -> tuple[Any, float]:
  t0 = time.perf_counter()
  out = fn(*args)
  jax.block_until_ready(out)
  return out, time.perf_counter() - t0


# --- (a) parallel vs sequential ----------------------------------------------


def make_step(cfg: core_block.BlockConfig, dtype, lr: float = 1e-3):
  """Jitted train step (loss, new params) of one block on x."""
  def loss(params, x):
    return jnp.mean(jnp.square(core_block.apply(params, x, cfg).astype(
        jnp.float32)))

  def step(params, x):
    value, grads = jax.value_and_grad(loss)(params, x)
    return value, jax.tree_util.tree_map(
        lambda p, g: (p - lr * g).astype(dtype), params, grads)

  return jax.jit(step, donate_argnums=(0,))


def _compiled_bytes(cfg, dtype, batch, tokens) -> float | None:
  params = jax.eval_shape(lambda: core_block.init_params(
      jax.random.PRNGKey(0), cfg, dtype))
  x = jax.ShapeDtypeStruct((batch, tokens, cfg.model_dims), dtype)
  ma = make_step(cfg, dtype).lower(params, x).compile().memory_analysis()
  if ma is None:
    return None
  total = (ma.argument_size_in_bytes + ma.output_size_in_bytes +
           ma.temp_size_in_bytes - ma.alias_size_in_bytes)
  return float(total) if total > 0 else None


def batch_for_memory(cfgs, dtype, tokens, fraction, max_batch) -> tuple[int,
                                                                        str]:
  """Largest power-of-two batch whose step fits in `fraction` of memory."""
  stats = jax.devices()[0].memory_stats() or {}
  limit = stats.get('bytes_limit')
  if not limit:
    return 0, 'device reports no memory limit'
  per_ex, fixed = 0.0, 0.0
  for cfg in cfgs:
    b1 = _compiled_bytes(cfg, dtype, 1, tokens)
    b2 = _compiled_bytes(cfg, dtype, 2, tokens)
    if b1 is None or b2 is None:
      return 0, 'XLA gave no memory analysis'
    per_ex = max(per_ex, b2 - b1)
    fixed = max(fixed, 2 * b1 - b2)
  batch = 1
  while batch * 2 <= max_batch and fixed + 2 * batch * per_ex <= (
      fraction * limit):
    batch *= 2
  return batch, (f'{per_ex / 2**20:.1f} MiB per example + '
                 f'{fixed / 2**20:.1f} MiB fixed, limit '
                 f'{limit / 2**30:.1f} GiB x {fraction}')


def part_a(args, dtype, peak) -> list[dict[str, Any]]:
  rows = []
  for w in widths(args.smoke):
    cfgs = {'parallel': block_cfg(w, True), 'sequential': block_cfg(w, False)}
    if args.batch:
      batch, why = args.batch, 'given'
    else:
      batch, why = batch_for_memory(list(cfgs.values()), dtype, args.tokens,
                                    args.mem_fraction, args.max_batch)
      if not batch:
        batch, why = 4, f'fixed ({why})'
    runs = {}
    for name, cfg in cfgs.items():
      step = make_step(cfg, dtype)
      params = core_block.init_params(jax.random.PRNGKey(0), cfg, dtype)
      x = jax.random.normal(jax.random.PRNGKey(1),
                            (batch, args.tokens, w.model_dims), dtype)
      (_, params), compile_s = _timed(step, params, x)
      for _ in range(args.warmup):
        _, params = step(params, x)
      runs[name] = dict(step=step, state=[params, x], times=[],
                        compile_s=compile_s, cfg=cfg)
    for _ in range(args.steps):
      for r in runs.values():
        (_, params), t = _timed(r['step'], *r['state'])
        r['state'][0] = params
        r['times'].append(t)
    row = dict(width=w.name, model_dims=w.model_dims,
               hidden_dims=w.hidden_dims, heads=w.num_heads, batch=batch,
               batch_from=why, tokens=args.tokens)
    for name, r in runs.items():
      flops = core_block.block_train_flops(r['cfg'], batch, args.tokens)
      best = min(r['times'])
      row[name] = dict(times_s=r['times'], best_s=best,
                       median_s=statistics.median(r['times']),
                       compile_s=r['compile_s'], model_flops=flops,
                       mfu_best=flops / best / peak,
                       params=core_block.param_count(r['cfg']))
    ratios = [s / p for p, s in zip(runs['parallel']['times'],
                                    runs['sequential']['times'])]
    row['parallel_over_sequential'] = dict(
        median=statistics.median(ratios), min=min(ratios), max=max(ratios),
        per_round=ratios)
    rows.append(row)
  return rows


# --- (b) rings ---------------------------------------------------------------


def ring_compute(x, w, k: int, form: str):
  """A ring's per-device matmuls without the permutes, chained as the ring
  chains them (each partial matmul tied to the previous result)."""
  parts, last = [], None
  if form == 'all_gather':
    # y_local [M, K/k] = sum_j x[:, block j] @ w_local[block j, :]
    b = x.shape[1] // k
    for j in range(k):
      xs, ws = x[:, j * b:(j + 1) * b], w[j * b:(j + 1) * b]
      if last is not None:
        xs, ws = compat.optimization_barrier(((xs, ws), last))[0]
      last = jnp.einsum('md,dk->mk', xs, ws,
                        preferred_element_type=jnp.float32)
      parts.append(last)
    return sum(parts[1:], parts[0]).astype(x.dtype)
  # reduce-scatter: partial sums of every output block of y [M, D]
  b = w.shape[1] // k
  for j in range(k):
    xs, ws = x, w[:, j * b:(j + 1) * b]
    if last is not None:
      xs, ws = compat.optimization_barrier(((xs, ws), last))[0]
    last = jnp.einsum('mk,kd->md', xs, ws,
                      preferred_element_type=jnp.float32).astype(x.dtype)
    parts.append(last)
  return jnp.concatenate(parts, axis=1)


def per_device_compute(args, dtype, k: int) -> list[dict[str, Any]]:
  """The k partial matmuls of one device vs the one matmul they replace."""
  rows = []
  w0 = widths(args.smoke)[-1]
  batch = args.ring_batch
  m = batch * args.tokens
  d, kk = w0.model_dims, (3 * w0.model_dims + w0.hidden_dims)
  key = jax.random.PRNGKey(0)
  for form, x_shape, w_shape in (
      ('all_gather', (m, d), (d, kk // k)),
      ('reduce_scatter', (m, kk // k), (kk // k, d))):
    x = jax.random.normal(key, x_shape, dtype)
    w = jax.random.normal(key, w_shape, dtype)
    ring = jax.jit(lambda x, w, form=form: ring_compute(x, w, k, form))
    eqn = 'md,dk->mk' if form == 'all_gather' else 'mk,kd->md'
    one = jax.jit(lambda x, w, eqn=eqn: jnp.einsum(eqn, x, w))
    for f in (ring, one):
      jax.block_until_ready(f(x, w))
    times = {'ring': [], 'one': []}
    for _ in range(args.steps):
      times['ring'].append(_timed(ring, x, w)[1])
      times['one'].append(_timed(one, x, w)[1])
    rows.append(dict(form=form, k=k, x=list(x_shape), w=list(w_shape),
                     times_s=times, ratio_best=min(times['ring']) /
                     min(times['one'])))
  return rows


def tp_step(cfg, mesh, matmul: str, dtype, batch: int, tokens: int):
  """(jitted fwd+bwd of the tensor-parallel block, args) on `mesh`."""
  names = set(mesh.axis_names)
  weights, _ = tp.block_splits()
  weights = {key: tuple(e if e in names else None for e in split)
             for key, split in weights.items()}
  specs = tp.param_specs(cfg, weights)
  shard = jax.tree_util.tree_map(lambda s: NamedSharding(mesh, s), specs,
                                 is_leaf=lambda s: isinstance(s, P))
  x_shard = NamedSharding(mesh, P(None, None, 'mdl'))
  ops = tp.block_ops(cfg, mesh, matmul)

  def loss(params, x):
    return jnp.mean(jnp.square(core_block.apply(params, x, cfg, ops).astype(
        jnp.float32)))

  fn = jax.jit(jax.value_and_grad(loss), in_shardings=(shard, x_shard))
  params = jax.eval_shape(lambda: core_block.init_params(
      jax.random.PRNGKey(0), cfg, dtype))
  x = jax.ShapeDtypeStruct((batch, tokens, cfg.model_dims), dtype)
  return fn, params, x, shard, x_shard


def schedule_report(text: str) -> dict[str, Any]:
  """Collectives, matmuls and start->done overlap of a compiled program."""
  overlap = hlo.async_overlap(text)
  count, chain = hlo.matmul_chain(text)
  permutes = [o for o in overlap if o.kind == 'collective-permute']
  return dict(
      collectives=hlo.count_collectives(text), matmuls=count,
      matmul_chain=chain, async_collectives=len(overlap),
      async_with_matmul=sum(o.matmuls > 0 for o in overlap),
      matmuls_per_permute=[o.matmuls for o in permutes],
      overlap=[dataclasses.asdict(o) for o in overlap])


def compile_columns(args, dtype, k, columns, run: bool) -> dict[str, Any]:
  """Per column: the schedule of the compiled program (and step times)."""
  w0 = widths(args.smoke)[-1]
  cfg = block_cfg(w0, True)
  mesh = Mesh(np.array(jax.devices()[:k]).reshape(1, 1, k), AXES)
  out = {}
  progs = {}
  for col in columns:
    fn, params, x, shard, x_shard = tp_step(cfg, mesh, col, dtype,
                                            args.ring_batch, args.tokens)
    compiled = fn.lower(params, x).compile()
    out[col] = schedule_report(compiled.as_text())
    if run:
      p = jax.device_put(core_block.init_params(jax.random.PRNGKey(0), cfg,
                                                dtype), shard)
      xv = jax.device_put(jax.random.normal(
          jax.random.PRNGKey(1), (args.ring_batch, args.tokens,
                                  cfg.model_dims), dtype), x_shard)
      jax.block_until_ready(compiled(p, xv))
      progs[col] = (compiled, p, xv)
      out[col]['times_s'] = []
  for _ in range(args.steps if run else 0):
    for col, (compiled, p, xv) in progs.items():
      out[col]['times_s'].append(_timed(compiled, p, xv)[1])
  for col in progs:
    out[col]['best_s'] = min(out[col]['times_s'])
  return out


def _child(args, mode: str, env_extra: dict[str, str]) -> dict[str, Any]:
  """Runs this script in a child process (flags that need a fresh backend)."""
  cmd = [sys.executable, '-m', 'vit22b_pax.tools.bench_gpu', '--_child',
         mode, '--steps', str(args.steps), '--tokens', str(args.tokens),
         '--ring_batch', str(args.ring_batch)] + (['--smoke'] if args.smoke
                                                  else [])
  env = dict(os.environ, **env_extra)
  try:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          check=False, timeout=args.child_timeout)
  except subprocess.TimeoutExpired:
    return {'error': f'child timed out after {args.child_timeout} s'}
  if proc.returncode:
    return {'error': (proc.stderr.strip().splitlines() or ['?'])[-1][:300]}
  return json.loads(proc.stdout.strip().splitlines()[-1])


def part_b(args, dtype) -> dict[str, Any]:
  n = jax.device_count()
  platform = jax.devices()[0].platform
  k = args.ring_k
  out: dict[str, Any] = {'per_device_compute': per_device_compute(
      args, dtype, k)}
  if n >= 2:
    k_real = 1 << (n.bit_length() - 1)
    out['real'] = dict(k=k_real, columns=compile_columns(
        args, dtype, k_real, tp.MATMULS, run=True))
    if platform == 'gpu':
      flags = os.environ.get('XLA_FLAGS', '') + ' ' + WINDOWED_FLAG
      out['real']['columns']['windowed'] = _child(
          args, 'windowed', {'XLA_FLAGS': flags.strip()})
    else:
      out['real']['windowed'] = (f'n/a: {platform} has no windowed-einsum '
                                 'pass (GPU/TPU SPMD pipelines only)')
  if platform == 'gpu' and n < 8:
    out['mocked'] = dict(topology=MOCK_TOPOLOGY, columns=_child(
        args, 'mocked', {'JAX_MOCK_GPU_TOPOLOGY': MOCK_TOPOLOGY,
                         'JAX_CUDA_VISIBLE_DEVICES': '0'}))
    flags = os.environ.get('XLA_FLAGS', '') + ' ' + WINDOWED_FLAG
    out['mocked']['columns']['windowed'] = _child(
        args, 'mocked_windowed', {'JAX_MOCK_GPU_TOPOLOGY': MOCK_TOPOLOGY,
                                  'JAX_CUDA_VISIBLE_DEVICES': '0',
                                  'XLA_FLAGS': flags.strip()})
  elif platform != 'gpu':
    out['mocked'] = ('n/a: the mocked 8-GPU topology needs the GPU client '
                     f'(this backend is {platform})')
  return out


def run_child(args, dtype) -> dict[str, Any]:
  if args._child == 'windowed':
    k = 1 << (jax.device_count().bit_length() - 1)
    return compile_columns(args, dtype, k, ('xla',), run=True)['xla']
  if args._child in ('mocked', 'mocked_windowed'):
    jax.config.update('jax_mock_gpu_topology', MOCK_TOPOLOGY)
    if jax.device_count() != 8:
      raise RuntimeError(f'mocked topology gave {jax.device_count()} '
                         'devices, expected 8')
    cols = ('xla',) if args._child == 'mocked_windowed' else tp.MATMULS
    res = compile_columns(args, dtype, 8, cols, run=False)
    return res['xla'] if args._child == 'mocked_windowed' else res
  raise ValueError(f'Unknown child mode {args._child!r}.')


# --- report ------------------------------------------------------------------


def print_report(report: dict[str, Any]) -> None:
  dev = report['device']
  print(f'device: {dev["device_kind"]} x{dev["device_count"]} '
        f'({dev["platform"]}), jax {dev["jax"]}, {report["dtype"]}; peak '
        f'{report["peak_flops"] / 1e12:.3g} TFLOP/s ({report["peak_source"]})')
  if 'a' in report:
    print('\n(a) one block, train step (fwd+bwd+SGD), best of '
          f'{report["steps"]} interleaved steps')
    print('| width | D | F | heads | batch | parallel | sequential | '
          'par/seq (paired median) | MFU parallel | MFU sequential |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for r in report['a']:
      print(f'| {r["width"]} | {r["model_dims"]} | {r["hidden_dims"]} | '
            f'{r["heads"]} | {r["batch"]} | {r["parallel"]["best_s"] * 1e3:.2f}'
            f' ms | {r["sequential"]["best_s"] * 1e3:.2f} ms | '
            f'{r["parallel_over_sequential"]["median"]:.3f}x | '
            f'{100 * r["parallel"]["mfu_best"]:.1f}% | '
            f'{100 * r["sequential"]["mfu_best"]:.1f}% |')
  if 'b' in report:
    b = report['b']
    print('\n(b1) per-device compute of a ring (k chained partial matmuls) '
          'vs the one matmul')
    for r in b['per_device_compute']:
      print(f'  {r["form"]:>14} k={r["k"]} x{r["x"]} w{r["w"]}: ring/one = '
            f'{r["ratio_best"]:.3f}')
    for label in ('real', 'mocked'):
      sec = b.get(label)
      if sec is None:
        continue
      if isinstance(sec, str):
        print(f'\n({label}) {sec}')
        continue
      cols = sec['columns']
      print(f'\n(b2, {label}) tensor-parallel block fwd+bwd, '
            f'k={sec.get("k", 8)}'
            + (f' topology {sec["topology"]}' if 'topology' in sec else ''))
      if 'error' in cols:
        print(f'  n/a: {cols["error"]}')
        continue
      print('| column | step | collectives | matmuls | async | async with '
            '>= 1 matmul inside | matmuls per permute |')
      print('|---|---|---|---|---|---|---|')
      for col, r in cols.items():
        if 'error' in r:
          print(f'| {col} | n/a: {r["error"]} |||||')
          continue
        colls = ' '.join(f'{k_}:{v}' for k_, v in r['collectives'].items()
                         if v)
        step = f'{r["best_s"] * 1e3:.2f} ms' if 'best_s' in r else '-'
        print(f'| {col} | {step} | {colls} | {r["matmuls"]} | '
              f'{r["async_collectives"]} | {r["async_with_matmul"]} | '
              f'{r["matmuls_per_permute"] or "sync"} |')
      if 'windowed' in sec:
        print(f'  windowed: {sec["windowed"]}')


def main(argv=None) -> int:
  ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  ap.add_argument('--smoke', action='store_true',
                  help='tiny widths, float32, seconds on CPU')
  ap.add_argument('--parts', default='a,b')
  ap.add_argument('--steps', type=int, default=7)
  ap.add_argument('--warmup', type=int, default=2)
  ap.add_argument('--tokens', type=int, default=None,
                  help='sequence length (default 256; smoke 16)')
  ap.add_argument('--batch', type=int, default=0,
                  help='(a) batch; 0 = sized to memory')
  ap.add_argument('--mem_fraction', type=float, default=0.6)
  ap.add_argument('--max_batch', type=int, default=1024)
  ap.add_argument('--ring_k', type=int, default=8)
  ap.add_argument('--ring_batch', type=int, default=None,
                  help='(b) batch (default 16; smoke 4)')
  ap.add_argument('--child_timeout', type=int, default=900)
  ap.add_argument('--json', default=None)
  ap.add_argument('--_child', default=None, help=argparse.SUPPRESS)
  args = ap.parse_args(argv)
  if args.steps < 7 and not args._child:
    raise ValueError(f'--steps must be >= 7, got {args.steps}.')
  args.tokens = args.tokens or (16 if args.smoke else 256)
  args.ring_batch = args.ring_batch or (4 if args.smoke else 16)
  dtype_name = 'float32' if args.smoke else 'bfloat16'
  dtype = jnp.dtype(dtype_name)
  if args._child:
    print(json.dumps(run_child(args, dtype)))
    return 0
  parts = [p for p in args.parts.split(',') if p]
  bad = set(parts) - {'a', 'b'}
  if bad:
    raise ValueError(f'--parts entries {sorted(bad)} not in (a, b).')
  peak, src = peak_flops(dtype_name, args.steps)
  report: dict[str, Any] = dict(device=device_info(), dtype=dtype_name,
                                peak_flops=peak, peak_source=src,
                                steps=args.steps, smoke=args.smoke)
  if 'a' in parts:
    report['a'] = part_a(args, dtype, peak)
  if 'b' in parts:
    report['b'] = part_b(args, dtype)
  print_report(report)
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(report, f, indent=1)
  return 0


if __name__ == '__main__':
  sys.exit(main())
