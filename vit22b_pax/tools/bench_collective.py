# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Benchmark: ring collective matmuls vs XLA's default partitioning.

Step time (forward + backward, jitted) of one fused `ViT22BBlock`, tensor-
parallel over the 'mdl' axis of a (replica, data, mdl) mesh of fake CPU
devices, at several widths, with
  xla:       stock `EinsumOp`; XLA's SPMD partitioner inserts whole-operand
             all-gathers / reduce-scatters (all-reduces on CPU);
  ring:      `CollectiveEinsumOp(mode='auto')` on both block matmuls;
  ring_bidi: the same, bidirectional ring;
  windowed:  stock einsum with XLA's own windowed-einsum pass switched on
             (GPU: --xla_gpu_threshold_for_windowed_einsum_mib=0) in a child
             process; 'n/a' with the reason where the backend has no such
             pass (it checks the compiled HLO for the pass's
             collective-permutes).
Each row also counts the collectives in the compiled HLO. The columns' steps
run interleaved (2 warm-up rounds, then `--steps` rounds); the table shows the
fastest step of each (the JSON also has the median); float32.

  python -m vit22b_pax.tools.bench_collective --widths 128,256,512 \
      --json /tmp/bench_collective.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

_DEVICES = 8
os.environ['XLA_FLAGS'] = ' '.join(
    [f for f in os.environ.get('XLA_FLAGS', '').split()
     if 'xla_force_host_platform_device_count' not in f]
    + [f'--xla_force_host_platform_device_count={_DEVICES}'])
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

# pylint: disable=g-import-not-at-top,wrong-import-position
import jax
from jax import numpy as jnp
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np
from praxis import base_layer
from praxis import pax_fiddle

from vit22b_pax.core import hlo
from vit22b_pax.core import tensor_parallel
from vit22b_pax.layers import collective_einsum
from vit22b_pax.layers import parallel_block
# pylint: enable=g-import-not-at-top,wrong-import-position

AXES = ('replica', 'data', 'mdl')
COLUMNS = ('xla', 'ring', 'ring_bidi')
WINDOWED_FLAGS = {
    'gpu': '--xla_gpu_threshold_for_windowed_einsum_mib=0',
}


def block_config(width: int, heads: int, mesh_shape, column: str):
  """Fused ViT22BBlock config, sharded as `vit22b_pax.layers.sharding`."""
  p = pax_fiddle.Config(
      parallel_block.ViT22BBlock, name='block', model_dims=width,
      num_heads=heads, hidden_dims=4 * width, attention_summaries=False,
      mesh_axis_names=AXES, ici_mesh_shape=list(mesh_shape))
  weights, acts = tensor_parallel.block_splits()
  for key, split in weights.items():
    setattr(p.weight_split_dims_mapping, key, split)
  for kind, split in acts.items():
    setattr(p.activation_split_dims_mapping, kind, split)
  if column.startswith('ring'):
    collective_einsum.enable_collective_matmul(
        p, mode='auto', bidirectional=column == 'ring_bidi')
  return p


def compile_block(width, heads, batch, tokens, mesh_shape, column):
  """A compiled fwd+bwd step of the block, its inputs and the mesh."""
  devices = np.array(jax.devices()[:int(np.prod(mesh_shape))])
  mesh = Mesh(devices.reshape(mesh_shape), AXES)
  layer = base_layer.instantiate(block_config(width, heads, mesh_shape,
                                              column))
  x = jax.random.normal(jax.random.PRNGKey(0), (batch, tokens, width))
  with base_layer.JaxContext.new_context():
    params = layer.init(jax.random.PRNGKey(1), x)
    specs = base_layer.var_partition_specs(
        layer.abstract_init_with_metadata(x)[base_layer.PARAMS],
        mesh.shape.values(), AXES)
    shard = jax.tree_util.tree_map(lambda s: NamedSharding(mesh, s), specs)
    x_shard = NamedSharding(mesh, P(('replica', 'data'), None, 'mdl'))

    def loss(params, x):
      y = layer.apply({base_layer.PARAMS: params}, x)
      return jnp.mean(jnp.square(y))

    with mesh:
      step = jax.jit(jax.value_and_grad(loss), in_shardings=(shard, x_shard),
                     out_shardings=(NamedSharding(mesh, P()), shard))
      params = jax.device_put(params[base_layer.PARAMS], shard)
      x = jax.device_put(x, x_shard)
      compiled = step.lower(params, x).compile()
  return compiled, (params, x)


def time_columns(width, heads, batch, tokens, mesh_shape, columns, steps):
  """{column: {seconds, median_seconds, collectives}} for one width.

  The columns' steps are interleaved round by round (so background load
  hits all alike) after 2 warm-up rounds; 'seconds' is the fastest step
  (least disturbed by other processes), 'median_seconds' the median.
  """
  progs = {c: compile_block(width, heads, batch, tokens, mesh_shape, c)
           for c in columns}
  times = {c: [] for c in columns}
  for r in range(steps + 2):
    for c, (compiled, args) in progs.items():
      t0 = time.perf_counter()
      jax.block_until_ready(compiled(*args))
      if r >= 2:
        times[c].append(time.perf_counter() - t0)
  return {c: {'seconds': min(times[c]),
              'median_seconds': statistics.median(times[c]),
              'collectives': hlo.count_collectives(progs[c][0].as_text())}
          for c in columns}


def windowed_probe(args) -> dict:
  """Runs the 'xla' column in a child process with XLA's windowed einsum."""
  backend = jax.default_backend()
  flag = WINDOWED_FLAGS.get(backend)
  if flag is None:
    # Probe anyway with the GPU flag: does XLA parse it, and does the
    # compiled HLO change? (On CPU the SPMD pipeline has no windowed einsum.)
    flag = WINDOWED_FLAGS['gpu']
  env = dict(os.environ, XLA_FLAGS=os.environ['XLA_FLAGS'] + ' ' + flag)
  cmd = [sys.executable, '-m', 'vit22b_pax.tools.bench_collective',
         '--widths', args.widths, '--heads', str(args.heads), '--batch',
         str(args.batch), '--tokens', str(args.tokens), '--mesh', args.mesh,
         '--steps', str(args.steps), '--_child']
  proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                        check=False)
  if proc.returncode:
    return {'flag': flag, 'reason': 'XLA rejected the flag: '
            + proc.stderr.strip().splitlines()[-1][:200]}
  rows = json.loads(proc.stdout.strip().splitlines()[-1])
  if not any(r['collectives']['collective-permute'] for r in rows):
    return {'flag': flag, 'rows': rows, 'reason': (
        f'{backend}: flag accepted but no windowed einsum in the compiled '
        'HLO (no collective-permute); the pass exists only in the GPU/TPU '
        'SPMD pipelines')}
  return {'flag': flag, 'rows': rows, 'reason': None}


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--widths', default='128,256,512',
                      help='model dims D, comma-separated (MLP = 4D).')
  parser.add_argument('--heads', type=int, default=8)
  parser.add_argument('--batch', type=int, default=8)
  parser.add_argument('--tokens', type=int, default=64)
  parser.add_argument('--mesh', default='1,1,8',
                      help=f'(replica, data, mdl) sizes, product <= '
                      f'{_DEVICES}.')
  parser.add_argument('--steps', type=int, default=10)
  parser.add_argument('--json', default='bench_collective.json')
  parser.add_argument('--_child', action='store_true',
                      help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  widths = [int(w) for w in args.widths.split(',')]
  mesh_shape = tuple(int(m) for m in args.mesh.split(','))
  if len(mesh_shape) != 3 or np.prod(mesh_shape) > jax.device_count():
    raise ValueError(f'--mesh {args.mesh} must be 3 sizes with product <= '
                     f'{jax.device_count()} devices.')

  if args._child:  # pylint: disable=protected-access
    rows = []
    for w in widths:
      r = time_columns(w, args.heads, args.batch, args.tokens, mesh_shape,
                       ('xla',), args.steps)['xla']
      rows.append({'width': w, **r})
    print(json.dumps(rows))
    return

  results = []
  for w in widths:
    row = {'width': w, 'hidden': 4 * w, 'heads': args.heads}
    row.update(time_columns(w, args.heads, args.batch, args.tokens,
                            mesh_shape, COLUMNS, args.steps))
    results.append(row)
  windowed = windowed_probe(args)
  if windowed['reason'] is None:
    for row, wrow in zip(results, windowed['rows']):
      row['windowed'] = {k: v for k, v in wrow.items() if k != 'width'}

  short = {'collective-permute': 'cp', 'all-gather': 'ag',
           'reduce-scatter': 'rs', 'all-reduce': 'ar', 'all-to-all': 'a2a'}

  def cell(entry):
    c = ' '.join(f'{short[k]}{v}' for k, v in entry['collectives'].items()
                 if v)
    return f'{entry["seconds"] * 1e3:7.1f} ms ({c})'

  load = os.getloadavg()
  print(f'host: {os.cpu_count()} cores, load average {load[0]:.1f} '
        '(fake devices share these cores; other load skews timings)')
  print(f'backend={jax.default_backend()} devices={jax.device_count()} '
        f'mesh(replica,data,mdl)={mesh_shape} batch={args.batch} '
        f'tokens={args.tokens} heads={args.heads} float32, fwd+bwd of one '
        'fused ViT22BBlock')
  header = f'{"D":>6} {"F":>6} | ' + ' | '.join(
      f'{c:>28}' for c in COLUMNS + ('windowed',)) + ' | ring/xla'
  print(header)
  print('-' * len(header))
  for row in results:
    cols = [cell(row[c]) for c in COLUMNS]
    cols.append(cell(row['windowed']) if 'windowed' in row else 'n/a')
    ratio = row['ring']['seconds'] / row['xla']['seconds']
    print(f'{row["width"]:>6} {row["hidden"]:>6} | '
          + ' | '.join(f'{c:>28}' for c in cols) + f' | {ratio:.2f}')
  if windowed['reason']:
    print(f'windowed: n/a ({windowed["flag"]}): {windowed["reason"]}')
  print('counts: cp collective-permute, ag all-gather, rs reduce-scatter, '
        'ar all-reduce (ops in the compiled HLO)')
  report = {
      'backend': jax.default_backend(), 'device_count': jax.device_count(),
      'mesh_shape': mesh_shape, 'mesh_axis_names': AXES,
      'batch': args.batch, 'tokens': args.tokens, 'steps': args.steps,
      'dtype': 'float32', 'host_cpus': os.cpu_count(),
      'load_average': load, 'rows': results,
      'windowed': {k: v for k, v in windowed.items() if k != 'rows'},
  }
  with open(args.json, 'w') as f:
    json.dump(report, f, indent=2)
  print(f'wrote {args.json}')


if __name__ == '__main__':
  main()
