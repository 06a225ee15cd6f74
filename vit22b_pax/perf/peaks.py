# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Peak FLOP/s per chip: a table for accelerators, a measurement for CPUs.

MFU (model FLOPs utilization, PaLM appendix B) divides the model FLOP/s by
the chip's peak. Accelerator peaks are the vendors' dense bf16 numbers
(no structured sparsity); on CPU there is no meaningful spec sheet number, so
the peak is *measured* as the best float32 matmul rate XLA reaches on this
host (`jax.jit(a @ b)` on 2048..4096 squares), once per process.

The chip table also carries the numbers `runtime/plan.py` needs for its
step-time and memory model (HBM capacity, inter-chip bandwidth).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import time

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class Chip:
  """One accelerator kind.

  Attributes:
    name: table key, e.g. 'tpu-v4'.
    peak_bf16_flops: dense bf16 peak FLOP/s per chip.
    hbm_bytes: device memory per chip.
    link_bw: bytes/s per chip available to a collective along ONE mesh axis
      (ring over that axis, both directions). See `CHIPS` for the assumption
      behind each number.
    source: where the numbers come from.
  """

  name: str
  peak_bf16_flops: float
  hbm_bytes: float
  link_bw: float
  source: str


_GB = 1e9
_GIB = 2.0**30

# Peaks are dense bf16 per chip.
# - TPU v4: 275 TFLOP/s, 32 GiB HBM, ICI 2400 Gbit/s per chip over 6 links of
#   a 3-D torus (cloud.google.com/tpu/docs/v4; Jouppi et al. ISCA 2023). One
#   mesh axis maps to one torus dimension: 2 links of 50 GB/s = 100 GB/s.
# - TPU v5e: 197 TFLOP/s, 16 GB HBM, ICI 1600 Gbit/s over 4 links of a 2-D
#   torus (cloud.google.com/tpu/docs/v5e): 2 links = 100 GB/s per axis.
# - TPU v5p: 459 TFLOP/s, 95 GB HBM, ICI 4800 Gbit/s over 6 links
#   (cloud.google.com/tpu/docs/v5p): 2 links = 200 GB/s per axis.
# - A100 SXM: 312 TFLOP/s bf16 dense (NVIDIA A100 datasheet), 80 GB,
#   NVLink3 600 GB/s bidirectional = 300 GB/s each way inside a node.
# - H100 SXM: 989 TFLOP/s bf16 dense (NVIDIA H100 datasheet, 1979 is with
#   sparsity), 80 GB, NVLink4 900 GB/s bidirectional = 450 GB/s each way.
# - H200 SXM: same compute as H100 (NVIDIA H200 datasheet), 141 GB,
#   NVLink4 900 GB/s bidirectional.
# GPU link_bw counts one direction: NCCL ring collectives inside one NVLink
# node move (k-1)/k of the data through each GPU's outgoing links.
CHIPS: dict[str, Chip] = {
    c.name: c
    for c in (
        Chip('tpu-v4', 275e12, 32 * _GIB, 100 * _GB,
             'cloud.google.com/tpu/docs/v4'),
        Chip('tpu-v5e', 197e12, 16 * _GB, 100 * _GB,
             'cloud.google.com/tpu/docs/v5e'),
        Chip('tpu-v5p', 459e12, 95 * _GB, 200 * _GB,
             'cloud.google.com/tpu/docs/v5p'),
        Chip('a100', 312e12, 80 * _GB, 300 * _GB, 'NVIDIA A100 datasheet'),
        Chip('h100', 989e12, 80 * _GB, 450 * _GB, 'NVIDIA H100 datasheet'),
        Chip('h200', 989e12, 141 * _GB, 450 * _GB, 'NVIDIA H200 datasheet'),
    )
}

# Dense bf16 peak FLOP/s per chip, the table MFU uses.
PEAK_BF16_FLOPS: dict[str, float] = {
    k: c.peak_bf16_flops for k, c in CHIPS.items()}

# jax `device_kind` strings (lower-cased) -> table key; first match wins.
_KIND_PATTERNS = (
    (r'tpu v4', 'tpu-v4'),
    (r'tpu v5 ?lite|tpu v5e', 'tpu-v5e'),
    (r'tpu v5p|tpu v5$', 'tpu-v5p'),
    (r'a100', 'a100'),
    (r'h100', 'h100'),
    (r'h200', 'h200'),
)


def get_chip(name: str) -> Chip:
  """Returns the table row for `name` (a key of `CHIPS` or a device kind)."""
  key = str(name).lower()
  if key in CHIPS:
    return CHIPS[key]
  found = chip_from_device_kind(key)
  if found is None:
    raise ValueError(
        f'Unknown chip {name!r}; expected one of {", ".join(CHIPS)}.')
  return CHIPS[found]


def chip_from_device_kind(device_kind: str) -> str | None:
  """Maps a jax `device_kind` (e.g. 'TPU v4', 'NVIDIA H100 80GB HBM3').

  Returns:
    The `CHIPS` key, or None if the kind is not in the table (e.g. 'cpu').
  """
  kind = str(device_kind).lower().strip()
  for pattern, key in _KIND_PATTERNS:
    if re.search(pattern, kind):
      return key
  return None


def matmul_times(sizes: tuple[int, ...] = (2048, 3072, 4096),
                 repeats: int = 3,
                 dtype: str = 'float32') -> dict[int, list[float]]:
  """Seconds of `repeats` timed n x n matmuls per size on this process's
  first local device (with several processes `jax.devices()[0]` belongs to
  process 0 and cannot take another process's data).

  Each size is compiled and run once untimed first. Not cached: call it
  right where the rate is needed (a shared host's speed drifts).
  """
  if not sizes or min(sizes) <= 0 or repeats <= 0:
    raise ValueError(f'Need positive sizes and repeats, got sizes={sizes}, '
                     f'repeats={repeats}.')
  device = jax.local_devices()[0]
  matmul = jax.jit(lambda a, b: a @ b)
  rng = np.random.default_rng(0)
  out = {}
  for n in sizes:
    a = jax.device_put(
        jnp.asarray(rng.standard_normal((n, n)), dtype=dtype), device)
    b = jax.device_put(
        jnp.asarray(rng.standard_normal((n, n)), dtype=dtype), device)
    matmul(a, b).block_until_ready()
    out[n] = []
    for _ in range(repeats):
      t0 = time.perf_counter()
      matmul(a, b).block_until_ready()
      out[n].append(time.perf_counter() - t0)
  return out


def best_rate(times: dict[int, list[float]]) -> float:
  """max over sizes and runs of 2 n^3 / seconds."""
  return max(2.0 * n**3 / min(t) for n, t in times.items())


@functools.lru_cache(maxsize=None)
def measured_matmul_peak(sizes: tuple[int, ...] = (2048, 3072, 4096),
                         repeats: int = 3,
                         dtype: str = 'float32') -> float:
  """Best matmul FLOP/s XLA reaches on device 0 (cached per process).

  Args:
    sizes: square matrix sizes to try.
    repeats: timed runs per size (after one warm-up run).
    dtype: operand dtype name.

  Returns:
    max over sizes and repeats of 2 n^3 / seconds.
  """
  return best_rate(matmul_times(sizes, repeats, dtype))


def peak_flops_per_chip(override: float | None = None,
                        device_kind: str | None = None) -> tuple[float, str]:
  """Peak FLOP/s of one chip of the running backend.

  Args:
    override: use this value (FLOP/s) instead of the table/measurement.
    device_kind: a jax device kind; default `jax.devices()[0].device_kind`.

  Returns:
    (peak FLOP/s, a short description of where it came from).

  Raises:
    ValueError: non-positive override, or an accelerator missing from the
      table (pass `override` for it).
  """
  if override is not None:
    if not override > 0:
      raise ValueError(f'peak FLOP/s override must be > 0, got {override}.')
    return float(override), 'override'
  if device_kind is None:
    device_kind = jax.devices()[0].device_kind
  key = chip_from_device_kind(device_kind)
  if key is not None:
    return PEAK_BF16_FLOPS[key], f'{key} dense bf16 (table)'
  if jax.devices()[0].platform == 'cpu' and device_kind == jax.devices(
  )[0].device_kind:
    return measured_matmul_peak(), 'measured float32 matmul (cpu)'
  raise ValueError(
      f'No peak FLOP/s known for device kind {device_kind!r}; known: '
      f'{", ".join(CHIPS)}; pass an explicit override.')
