# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The jax APIs the pure core uses that moved between jax releases.

The project pins jax 0.4.26 (praxis 1.4.0 needs jax <= 0.5); accelerator
machines carry current jax. Each helper resolves the API once, by looking at
what the running jax provides (never by version string):

* `shard_map`: `jax.shard_map` (current; keyword `check_vma`) where it
  exists, else `jax.experimental.shard_map.shard_map` (`check_rep`). The
  replication/VMA check is switched off: the rings' outputs are per-device
  blocks whose replication jax cannot infer through `ppermute`.
* `optimization_barrier`: `jax.lax.optimization_barrier`, else the primitive
  jax 0.4.26 keeps in `jax._src.ad_checkpoint` (same HLO op).
* `axis_size`: `jax.lax.axis_size`, else `psum(1, axis)` (static inside
  shard_map in every release).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import jax


def _resolve_shard_map() -> tuple[Callable[..., Any], str | None]:
  """(shard_map function, name of its replication-check keyword or None)."""
  fn = getattr(jax, 'shard_map', None)
  if fn is None:
    from jax.experimental import shard_map as sm  # pylint: disable=g-import-not-at-top
    fn = sm.shard_map
  try:
    params = inspect.signature(fn).parameters
  except (TypeError, ValueError):
    params = {}
  for name in ('check_vma', 'check_rep'):
    if name in params:
      return fn, name
  return fn, None


def shard_map(f: Callable[..., Any], mesh: jax.sharding.Mesh, in_specs,
              out_specs) -> Callable[..., Any]:
  """`shard_map(f, mesh, in_specs, out_specs)` with the check switched off.

  Args:
    f: per-shard function.
    mesh: the device mesh.
    in_specs: PartitionSpec per positional argument.
    out_specs: PartitionSpec (tree) of the output.

  Returns:
    The mapped function.
  """
  fn, check = _resolve_shard_map()
  kwargs = {check: False} if check else {}
  return fn(f, mesh=mesh, in_specs=in_specs, out_specs=out_specs, **kwargs)


def optimization_barrier(tree):
  """Identity that XLA may not look through, reorder across or merge."""
  fn = getattr(jax.lax, 'optimization_barrier', None)
  if fn is None:
    from jax._src import ad_checkpoint  # pylint: disable=g-import-not-at-top
    fn = ad_checkpoint._optimization_barrier  # pylint: disable=protected-access
  return fn(tree)


def axis_size(axis_name: str) -> int:
  """Static size of a bound mesh axis (inside shard_map)."""
  fn = getattr(jax.lax, 'axis_size', None)
  if fn is not None:
    return int(fn(axis_name))
  return int(jax.lax.psum(1, axis_name))
