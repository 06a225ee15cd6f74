# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What XLA made of a step: memory, matmul FLOPs and collectives per loop.

Reads one SPMD-partitioned, optimized module (the per-device program) and
its buffer assignment, as `jax.jit(...).lower(...).compile()` leaves them:

* `compile_with_dump`: compiles once with `xla_dump_to` and returns the
  compiled executable, its optimized HLO text and XLA's buffer assignment;
* `buffer_stats`: per-device argument / output / alias / temp bytes from
  the buffer assignment (XLA:CPU in jaxlib 0.4.26 leaves
  `memory_analysis()` empty);
* `multipliers`: how many times each computation runs per step: the
  product of the trip counts of the `while` loops around it (a scanned
  encoder's forward and backward loops run `num_layers` times). XLA's own
  `cost_analysis()` counts a loop body once, so it under-counts a scanned
  model by ~num_layers;
* `matmul_flops`: 2 x MACs of every dot / GEMM custom call x its
  computation's multiplier;
* `collective_table`: every collective (`core.hlo.collectives`) with its
  mesh axes, bytes one device sends (ring model), and whether it runs
  inside a layer loop (trip count = num_layers): per block and per step;
* `stacked_residuals`: the per-layer tensors a layer loop carries out to
  the backward loop ([num_layers, batch, ...] buffers of the loop tuple):
  the saved activations of a scanned, rematerialised encoder.
"""

from __future__ import annotations

import collections
import dataclasses
import glob
import math
import os
import re
import tempfile
from typing import Sequence

from vit22b_pax.core import hlo


def compile_with_dump(lowered, options: dict | None = None):
  """(compiled, optimized HLO text, buffer-assignment text) of `lowered`."""
  with tempfile.TemporaryDirectory() as tmp:
    compiled = lowered.compile(
        compiler_options={'xla_dump_to': tmp, **(options or {})})
    files = glob.glob(os.path.join(
        tmp, '*after_optimizations-buffer-assignment.txt'))
    if not files:
      raise RuntimeError('XLA wrote no buffer assignment; cannot measure.')
    # The step is the largest module (small ones are e.g. a key broadcast).
    buffers = open(max(files, key=os.path.getsize)).read()
  return compiled, compiled.as_text(), buffers


def buffer_stats(buffer_assignment: str) -> dict[str, int]:
  """Per-device bytes of XLA's buffer assignment by kind.

  argument: entry parameters; alias: parameters whose buffer is reused for
  an output (donated train state); output: other live-out buffers; temp:
  everything else but thread-local and constant buffers.
  """
  stats = dict(argument=0, output=0, alias=0, temp=0)
  for m in re.finditer(r'^allocation \d+: size (\d+), (.*)$',
                       buffer_assignment, re.M):
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


def _trip_count(mod: hlo.Module, condition: str) -> int | None:
  """N of a `while (i < N)` condition computation (counter from 0)."""
  instrs = mod.comps.get(condition, [])
  consts = {i.name: int(i.operands[0]) for i in instrs
            if i.opcode == 'constant' and len(i.operands) == 1
            and re.fullmatch(r'-?\d+', i.operands[0])}
  for i in instrs:
    if i.opcode == 'compare' and 'direction=LT' in i.attrs:
      for o in i.operands:
        if o in consts:
          return consts[o]
  return None


def _calls(instr: hlo.Instr) -> list[tuple[str, str]]:
  """(role, computation) pairs an instruction calls."""
  out = []
  for role in ('body', 'condition', 'calls', 'to_apply',
               'branch_computations'):
    m = re.search(role + r'=(\{[^}]*\}|%?[\w.\-]+)', instr.attrs)
    if m:
      for name in m.group(1).strip('{}').split(','):
        name = name.strip().lstrip('%')
        if name:
          out.append((role, name))
  return out


@dataclasses.dataclass
class Loops:
  """Per computation: runs per step, and the layer loops around it.

  Attributes:
    mult: computation -> times it runs per step.
    layer_loop: computation -> True inside a loop of `num_layers` trips.
    trips: while instruction name -> trip count (None if unknown).
  """

  mult: dict[str, int]
  layer_loop: dict[str, bool]
  trips: dict[str, int | None]


def multipliers(mod: hlo.Module, num_layers: int | None = None) -> Loops:
  """Runs per step of every computation reachable from the entry."""
  mult: dict[str, int] = {}
  layer: dict[str, bool] = {}
  trips: dict[str, int | None] = {}

  def visit(comp: str, m: int, in_layer: bool) -> None:
    if mult.get(comp, 0) >= m and (layer.get(comp) or not in_layer):
      return
    mult[comp] = max(mult.get(comp, 0), m)
    layer[comp] = layer.get(comp, False) or in_layer
    for instr in mod.comps.get(comp, ()):
      called = _calls(instr)
      if instr.opcode == 'while':
        cond = next((c for r, c in called if r == 'condition'), None)
        n = _trip_count(mod, cond) if cond else None
        trips[instr.name] = n
        for role, c in called:
          k = (n or 1) if role == 'body' else (n or 1) + 1
          visit(c, m * k, in_layer or (n is not None and n == num_layers))
      else:
        for _, c in called:
          visit(c, m, in_layer)

  visit(mod.entry, 1, False)
  return Loops(mult, layer, trips)


def _dims(shape: str) -> list[int]:
  m = re.search(r'\[([0-9,]*)\]', shape)
  return [int(d) for d in m.group(1).split(',') if d] if m else []


def _dot_flops(mod: hlo.Module, instr: hlo.Instr) -> float:
  """2 x MACs of a dot or a GEMM custom call (output x contracted size)."""
  out = math.prod(_dims(instr.shape))
  lhs = mod.defs.get(instr.operands[0]) if instr.operands else None
  if lhs is None:
    return 0.0
  lhs_dims = _dims(lhs.shape)
  if instr.opcode == 'dot':
    m = re.search(r'lhs_contracting_dims=\{([0-9,]*)\}', instr.attrs)
    contract = [int(d) for d in m.group(1).split(',') if d] if m else []
    k = math.prod(lhs_dims[d] for d in contract)
  else:  # oneDNN / cuBLAS GEMM: [.., M, K] x [.., K, N]
    cfg = re.search(r'"transpose_a":(true|false)', instr.attrs)
    k = lhs_dims[-2] if cfg and cfg.group(1) == 'true' else lhs_dims[-1]
  return 2.0 * out * k


def matmul_flops(mod: hlo.Module, loops: Loops) -> float:
  """Matmul FLOPs of one step on one device (loop bodies x trip count)."""
  total = 0.0
  for comp, instrs in mod.comps.items():
    m = loops.mult.get(comp, 0)
    if not m:
      continue
    for instr in instrs:
      if instr.opcode == 'dot' or (instr.opcode == 'custom-call' and
                                   mod.is_matmul(instr)):
        total += m * _dot_flops(mod, instr)
  return total


@dataclasses.dataclass(frozen=True)
class CollectiveRow:
  """Collectives of one kind on one set of mesh axes.

  Attributes:
    kind: e.g. 'all-gather'.
    axes: mesh axes the device groups span, e.g. ('mdl',).
    in_layer: inside a layer loop (per block) or not.
    ops: instructions in the module.
    async_ops: of those, asynchronous (`*-start` / `*-done` pairs).
    per_step: executions per step.
    bytes_per_step: bytes one device sends per step (ring model).
  """

  kind: str
  axes: tuple[str, ...]
  in_layer: bool
  ops: int
  async_ops: int
  per_step: int
  bytes_per_step: float


def collective_table(text: str, mesh_shape: Sequence[int],
                     axis_names: Sequence[str],
                     num_layers: int | None = None,
                     mod: hlo.Module | None = None
                     ) -> tuple[list[CollectiveRow], Loops]:
  """Every collective of a module grouped by (kind, axes, in a layer loop).
  `mod`: the text already parsed (parsed here otherwise)."""
  mod = mod or hlo.Module(text)
  loops = multipliers(mod, num_layers)
  where = {}
  for comp, instrs in mod.comps.items():
    for i in instrs:
      where[i.name] = (comp, i.opcode.endswith('-start'))
  acc = collections.defaultdict(lambda: [0, 0, 0, 0.0])
  for c in hlo.collectives(text):
    comp, is_async = where[c.name]
    m = loops.mult.get(comp, 0)
    axes = hlo.mesh_axes_of(c.groups, mesh_shape, axis_names)
    if c.kind == 'collective-permute' and c.groups:
      # Pairs (source, target): the axes the permute moves data along.
      axes = hlo.mesh_axes_of([list(p) for p in c.groups], mesh_shape,
                              axis_names)
    key = (c.kind, axes, bool(loops.layer_loop.get(comp)))
    row = acc[key]
    row[0] += 1
    row[1] += int(is_async)
    row[2] += m
    row[3] += m * c.bytes_sent
  rows = [CollectiveRow(k, a, l, *v) for (k, a, l), v in sorted(acc.items())]
  return rows, loops


def bytes_by_axis(rows: Sequence[CollectiveRow], in_layer: bool | None,
                  per: int = 1) -> dict[str, float]:
  """{'+'.join(axes): bytes} of the rows (in_layer None: all), / per."""
  out = collections.defaultdict(float)
  for r in rows:
    if in_layer is None or r.in_layer == in_layer:
      out['+'.join(r.axes) or 'none'] += r.bytes_per_step / per
  return dict(out)


def stacked_residuals(text: str, num_layers: int, batch: int,
                      mod: hlo.Module | None = None
                      ) -> list[tuple[str, float]]:
  """(shape, bytes) of [num_layers, batch, ...] arrays a layer loop returns.

  A scanned encoder's forward loop stacks what the backward loop needs per
  layer into its output tuple; under remat 'save_nothing' that is each
  block's input. Weights (also [num_layers, ...]) have no batch dim second.
  `mod`: the text already parsed.
  """
  mod = mod or hlo.Module(text)
  loops = multipliers(mod, num_layers)
  best: list[tuple[str, float]] = []
  for instrs in mod.comps.values():
    for i in instrs:
      if i.opcode != 'while' or loops.trips.get(i.name) != num_layers:
        continue
      found = []
      for dtype, dims in re.findall(r'\b([a-z]+[0-9]*)\[([0-9,]+)\]',
                                    i.shape):
        d = [int(x) for x in dims.split(',')]
        if len(d) >= 3 and d[0] == num_layers and d[1] == batch:
          key = f'{dtype}[{dims}]'
          found.append((key, hlo.shape_bytes(key)))
      # The loop carrying the most: forward and backward loops both hold
      # the stack (one writes it, the other reads it); count it once.
      if sum(b for _, b in found) > sum(b for _, b in best):
        best = found
  return best


def largest_collectives(text: str, mesh_shape: Sequence[int],
                        axis_names: Sequence[str],
                        num_layers: int | None = None, n: int = 10,
                        mod: hlo.Module | None = None) -> list[dict]:
  """The n collectives that send the most bytes per step, with their
  result shape and the JAX op that made them (HLO metadata). `mod`: the
  text already parsed."""
  mod = mod or hlo.Module(text)
  loops = multipliers(mod, num_layers)
  comp_of = {i.name: c for c, instrs in mod.comps.items() for i in instrs}
  out = []
  for c in hlo.collectives(text):
    comp = comp_of[c.name]
    instr = mod.defs[c.name]
    op = re.search(r'op_name="([^"]*)"', instr.attrs)
    out.append(dict(
        kind=c.kind, axes=list(hlo.mesh_axes_of(c.groups, mesh_shape,
                                                axis_names)),
        shape=instr.shape.split('{')[0], in_layer=bool(
            loops.layer_loop.get(comp)), runs=loops.mult.get(comp, 0),
        bytes_per_step=c.bytes_sent * loops.mult.get(comp, 0),
        op=re.sub(r'\[.*$', '', op.group(1))[-120:] if op else ''))
  return sorted(out, key=lambda r: -r['bytes_per_step'])[:n]


def largest_temps(buffer_assignment: str, n: int = 10) -> list[dict]:
  """The n largest buffers in XLA's temp allocations: what the step's temp
  memory is made of. Values that share a buffer (same allocation, offset
  and size: e.g. a loop's carried stack and the broadcast that
  initialised it) are one buffer, named by all of them."""
  bufs: dict[tuple, dict] = {}
  alloc, in_temp = None, False
  for line in buffer_assignment.splitlines():
    head = re.match(r'allocation (\d+): ', line)
    if head:
      alloc = head.group(1)
      in_temp = 'preallocated-temp' in line or not any(
          k in line for k in ('parameter', 'output shape', 'constant',
                              'thread-local', 'maybe-live-out'))
      continue
    if line.startswith('Total bytes used'):
      break
    m = re.match(r'\s*value: <\d+ ([\w.\-]+)(?:\{[\d,]*\})?(?: \(phi\))? @\d+> '
                 r'\(size=(\d+),offset=(\d+)\): (\S+)', line)
    if m and in_temp:
      key = (alloc, m.group(3), m.group(2))
      b = bufs.setdefault(key, dict(names=[], bytes=int(m.group(2)),
                                    shape=m.group(4).split('{')[0]))
      b['names'].append(m.group(1))
  out = sorted(bufs.values(), key=lambda r: -r['bytes'])[:n]
  for b in out:
    b['name'] = ', '.join(b.pop('names')[:3])
  return out
