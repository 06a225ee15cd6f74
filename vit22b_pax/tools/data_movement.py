# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Data-movement bytes of one compiled block, forward and backward.

A structural measure, independent of the machine's load (issue 22): compile
one `core.block` (by default ViT-B/16's: D 768, 12 heads, MLP 3072, 197
tokens, batch 4, float32), forward and backward (the gradient of the sum of
its output with respect to its parameters and input), for the CPU, and sum
what `vit22b_pax.core.hlo.data_movement` counts in the optimized HLO:
copies, transposes, concatenations, slices, dynamic slices and pads.

Usage (the numbers in docs/performance.md):
  python -m vit22b_pax.tools.data_movement
  python -m vit22b_pax.tools.data_movement --batch 8 --json /tmp/dm.json

Forms: 'fused' (parallel=True, fused=True, weights split: the default
hooks), 'fused_split_activations' (the same block with
`Ops(split_weights=False)`, as the ring collective matmuls run it),
'parallel_unfused' and 'sequential' (parallel=False, fused=False).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import sys
import time

import jax
from jax import numpy as jnp

from vit22b_pax.core import block as core_block
from vit22b_pax.core import hlo

# form -> (parallel, fused, split_weights).
FORMS = {
    'fused': (True, True, True),
    'fused_split_activations': (True, True, False),
    'parallel_unfused': (True, False, True),
    'sequential': (False, False, True),
}
MIB = 2.0**20


@dataclasses.dataclass(frozen=True)
class Measure:
  """Data movement of one compiled block.

  Attributes:
    form: a FORMS key.
    ops: counted instructions.
    bytes: their bytes.
    compile_s: seconds to lower and compile (the only timing; not a result).
  """

  form: str
  ops: int
  bytes: float
  compile_s: float


@functools.lru_cache(maxsize=None)
def measure(form: str, batch: int = 4, tokens: int = 197,
            model_dims: int = 768, num_heads: int = 12,
            hidden_dims: int = 3072, dtype: str = 'float32') -> Measure:
  """Compiles one block's forward + backward on CPU and counts its moves.

  Args:
    form: one of FORMS.
    batch: B.
    tokens: T.
    model_dims: D.
    num_heads: N.
    hidden_dims: F.
    dtype: parameters' and activations' dtype.

  Returns:
    The Measure (cached per arguments: tests share compilations).

  Raises:
    ValueError: unknown form or non-positive batch / tokens.
  """
  if form not in FORMS:
    raise ValueError(f'Unknown form {form!r}; expected one of {list(FORMS)}.')
  if batch < 1 or tokens < 1:
    raise ValueError(f'batch and tokens must be >= 1, got {batch}, {tokens}.')
  parallel, fused, split_weights = FORMS[form]
  cfg = core_block.BlockConfig(model_dims, num_heads, hidden_dims,
                               parallel=parallel, fused=fused)
  ops = core_block.Ops(split_weights=split_weights)
  # Committed to the CPU, so the program is compiled for XLA:CPU wherever
  # this runs.
  cpu = jax.devices('cpu')[0]
  params = jax.device_put(
      core_block.init_params(jax.random.PRNGKey(0), cfg, dtype), cpu)
  x = jax.device_put(jnp.zeros((batch, tokens, model_dims), dtype), cpu)

  def loss(params, x):
    return jnp.sum(core_block.apply(params, x, cfg, ops))

  grad = jax.jit(jax.grad(loss, argnums=(0, 1)))
  start = time.perf_counter()
  text = grad.lower(params, x).compile().as_text()
  seconds = time.perf_counter() - start
  count, nbytes = hlo.data_movement(text)
  return Measure(form, count, nbytes, seconds)


def fused_weight_bytes(model_dims: int = 768, num_heads: int = 12,
                       hidden_dims: int = 3072,
                       dtype: str = 'float32') -> float:
  """Bytes of the fused block's w_in and w_out."""
  cfg = core_block.BlockConfig(model_dims, num_heads, hidden_dims)
  specs = core_block.weight_specs(cfg)
  return float(jnp.dtype(dtype).itemsize * sum(
      math.prod(specs[n].shape) for n in ('w_in', 'w_out')))


def main(argv=None) -> int:
  ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  ap.add_argument('--batch', type=int, default=4)
  ap.add_argument('--tokens', type=int, default=197)
  ap.add_argument('--model_dims', type=int, default=768)
  ap.add_argument('--num_heads', type=int, default=12)
  ap.add_argument('--hidden_dims', type=int, default=3072)
  ap.add_argument('--dtype', default='float32')
  ap.add_argument('--forms', default=','.join(FORMS),
                  help=f'comma list of {list(FORMS)}')
  ap.add_argument('--json', default=None, help='write results here')
  args = ap.parse_args(argv)
  forms = [f for f in args.forms.split(',') if f]
  sizes = dict(batch=args.batch, tokens=args.tokens,
               model_dims=args.model_dims, num_heads=args.num_heads,
               hidden_dims=args.hidden_dims, dtype=args.dtype)
  print(f'# one block, forward + backward, XLA:CPU (jax {jax.__version__}): '
        + ', '.join(f'{k} {v}' for k, v in sizes.items()))
  rows = [measure(f, **sizes) for f in forms]
  base = next((r for r in rows if r.form == 'sequential'), None)
  for r in rows:
    rel = f'  {r.bytes / base.bytes:.2f}x sequential' if base else ''
    print(f'{r.form:>24}: {r.ops:3d} ops {r.bytes / MIB:7.1f} MiB{rel}')
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(dict(sizes=sizes, jax=jax.__version__,
                     results=[dict(form=r.form, ops=r.ops, bytes=r.bytes,
                                   mib=r.bytes / MIB) for r in rows]),
                f, indent=1)
  return 0


if __name__ == '__main__':
  sys.exit(main())
