# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Reading compiled XLA HLO text: collectives, matmuls, chains, schedule.

What the collective-matmul tests and benchmarks need to know about a
compiled program (`jax.jit(f).lower(...).compile().as_text()`):

* `collectives`: every collective op with its kind, the bytes one device
  sends for it (ring cost model: all-gather (k-1)/k of its output,
  reduce-scatter (k-1)/k of its input, all-reduce 2 (k-1)/k, all-to-all
  (k-1)/k, collective-permute its whole operand) and the mesh axes its
  device groups span;
* `matmul_chain`: the number of matmuls and the longest chain of matmuls
  linked by data dependencies (matmuls on one chain cannot be merged into one
  matmul or run before the ring steps feeding them);
* `async_overlap`: for each asynchronous collective (`*-start` ... `*-done`
  in a scheduled module) how many matmuls the schedule places between its
  start and its done, i.e. how much compute can hide it;
* `data_movement`: the instructions that only move data (copy, transpose,
  concatenate, slice, dynamic-slice, pad, or a fusion whose root is one of
  them) and the bytes they write: a structural, load-independent measure of
  layout overhead (e.g. splitting a fused activation, concatenating before
  a matmul, the transposes of their backward).

A matmul is a `dot`, a custom call to a GEMM library (cuBLAS / cuBLASLt /
oneDNN matmul) or a fusion / call whose computation contains one (e.g.
XLA:GPU's Triton GEMM fusions). Device ids in replica groups and permute
pairs are SPMD partition ids: positions in the mesh's flattened device
array, which `mesh_axes_of` maps back to mesh axes.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Sequence

import numpy as np

COLLECTIVE_KINDS = ('all-gather', 'all-reduce', 'reduce-scatter',
                    'all-to-all', 'collective-permute')
_DTYPE_BYTES = {'pred': 1, 's4': 0.5, 'u4': 0.5, 's8': 1, 'u8': 1,
                'f8e4m3fn': 1, 'f8e5m2': 1, 'bf16': 2, 'f16': 2, 's16': 2,
                'u16': 2, 'f32': 4, 's32': 4, 'u32': 4, 'f64': 8, 's64': 8,
                'u64': 8, 'c64': 8, 'c128': 16}
_ARRAY = re.compile(r'\b([a-z]+[0-9]*[a-z0-9]*)\[([0-9,]*)\]')
_GEMM_TARGETS = re.compile(r'gemm|matmul|cublas', re.I)


@dataclasses.dataclass
class Instr:
  """One HLO instruction.

  Attributes:
    name: its name (without '%').
    opcode: e.g. 'dot', 'collective-permute-start', 'fusion'.
    shape: the result type text, e.g. 'f32[4,8]{1,0}' or a tuple.
    operands: operand names.
    attrs: the text after the operand list (replica_groups=..., calls=...).
  """

  name: str
  opcode: str
  shape: str
  operands: list[str]
  attrs: str


def _matching(text: str, start: int) -> int:
  """Index just past the bracket group opening at text[start]."""
  pairs = {'(': ')', '{': '}', '[': ']'}
  depth, i = 0, start
  opening = text[start]
  while i < len(text):
    c = text[i]
    if c == opening:
      depth += 1
    elif c == pairs[opening]:
      depth -= 1
      if depth == 0:
        return i + 1
    i += 1
  return len(text)


def _parse_instr(line: str) -> Instr | None:
  m = re.match(r'\s*(?:ROOT\s+)?%?([\w.\-]+)\s*=\s*', line)
  if m is None:
    return None
  rest = line[m.end():]
  if rest.startswith('('):
    end = _matching(rest, 0)
    shape, rest = rest[:end], rest[end:].lstrip()
  else:
    shape, _, rest = rest.partition(' ')
  op = re.match(r'([\w\-]+)\(', rest)
  if op is None:
    return None
  end = _matching(rest, op.end() - 1)
  operands = [tok.split()[-1].lstrip('%') for tok in
              _top_level_split(rest[op.end():end - 1]) if tok.strip()]
  attrs = rest[end:]
  ctrl = re.search(r'control-predecessors=\{([^}]*)\}', attrs)
  if ctrl:
    operands += [c.strip().lstrip('%') for c in ctrl.group(1).split(',')
                 if c.strip()]
  return Instr(m.group(1), op.group(1), shape, operands, attrs)


def _top_level_split(text: str) -> list[str]:
  """Splits at commas outside brackets."""
  parts, depth, cur = [], 0, []
  for c in text:
    if c in '([{':
      depth += 1
    elif c in ')]}':
      depth -= 1
    if c == ',' and depth == 0:
      parts.append(''.join(cur))
      cur = []
    else:
      cur.append(c)
  parts.append(''.join(cur))
  return parts


def _comp_head(line: str) -> re.Match[str] | None:
  """The match of a computation's header line ('[ENTRY] %name (...) -> ... {').

  Group 1 is 'ENTRY ' for the entry computation, group 2 the name.
  """
  head = re.match(r'\s*(ENTRY\s+)?%?([\w.\-]+)\s*(\(.*\)\s*->.*)?\{\s*$',
                  line)
  return head if head and ' = ' not in line.split('->')[0] else None


def parse_module(text: str) -> tuple[dict[str, list[Instr]], str]:
  """({computation name: instructions in printed order}, entry name)."""
  comps: dict[str, list[Instr]] = {}
  entry, current = '', None
  for line in text.splitlines():
    head = _comp_head(line)
    if head:
      current = head.group(2)
      comps[current] = []
      if head.group(1):
        entry = current
      continue
    if line.strip() == '}':
      current = None
      continue
    if current is not None:
      instr = _parse_instr(line)
      if instr is not None:
        comps[current].append(instr)
  if not entry and comps:
    entry = list(comps)[-1]
  return comps, entry


def shape_bytes(shape: str) -> float:
  """Bytes of all arrays in an HLO type text (tuples summed)."""
  total = 0.0
  for dtype, dims in _ARRAY.findall(shape):
    if dtype not in _DTYPE_BYTES:
      continue
    n = math.prod(int(d) for d in dims.split(',') if d) if dims else 1
    total += n * _DTYPE_BYTES[dtype]
  return total


def _called(instr: Instr) -> list[str]:
  return re.findall(r'(?:calls|to_apply|body|condition|branch_computations)='
                    r'\{?%?([\w.\-]+)', instr.attrs) + re.findall(
                        r'calls=\{([^}]*)\}', instr.attrs)


class Module:
  """A parsed compiled module with matmul classification."""

  def __init__(self, text: str):
    self.text = text
    self.comps, self.entry = parse_module(text)
    self._has_matmul: dict[str, bool] = {}
    self.defs = {i.name: i for c in self.comps.values() for i in c}

  def comp_has_matmul(self, comp: str) -> bool:
    if comp not in self._has_matmul:
      self._has_matmul[comp] = False  # cycle guard
      self._has_matmul[comp] = any(self.is_matmul(i)
                                   for i in self.comps.get(comp, ()))
    return self._has_matmul[comp]

  def is_matmul(self, instr: Instr) -> bool:
    if instr.opcode in ('dot', 'convolution'):
      return True
    if instr.opcode == 'custom-call':
      target = re.search(r'custom_call_target="([^"]*)"', instr.attrs)
      return bool(target and _GEMM_TARGETS.search(target.group(1)))
    if instr.opcode in ('fusion', 'call', 'async-start'):
      names = []
      for c in _called(instr):
        names += [n.strip().lstrip('%') for n in c.split(',')]
      return any(self.comp_has_matmul(n) for n in names if n)
    return False

  def operand_bytes(self, instr: Instr) -> float:
    return sum(shape_bytes(self.defs[o].shape) for o in instr.operands
               if o in self.defs)


def _groups(attrs: str) -> list[list[int]] | None:
  """replica_groups / source_target_pairs as lists of partition ids."""
  m = re.search(r'replica_groups=\[([0-9,]+)\]<=\[([0-9,]+)\](T\(([0-9,]+)\))?',
                attrs)
  if m:
    shape = [int(v) for v in m.group(1).split(',')]
    base = [int(v) for v in m.group(2).split(',')]
    ids = np.arange(math.prod(base)).reshape(base)
    if m.group(4):
      ids = ids.transpose([int(v) for v in m.group(4).split(',')])
    return ids.reshape(shape).tolist()
  for key in ('replica_groups', 'source_target_pairs'):
    m = re.search(key + r'=\{(\{[0-9,{} ]*\})\}', attrs)
    if m:
      return [[int(v) for v in g.split(',') if v.strip()]
              for g in re.findall(r'\{([0-9, ]*)\}', m.group(1))]
  return None


def mesh_axes_of(groups: Sequence[Sequence[int]] | None,
                 mesh_shape: Sequence[int],
                 axis_names: Sequence[str]) -> tuple[str, ...]:
  """Mesh axes along which the members of any group differ.

  Args:
    groups: device groups (or permute pairs) of partition ids; None or
      empty groups mean all devices.
    mesh_shape: the mesh's shape (partition id = flat index).
    axis_names: its axis names.

  Returns:
    The axis names spanned, in mesh order.
  """
  if not groups or not any(groups):
    return tuple(n for n, s in zip(axis_names, mesh_shape) if s > 1)
  spanned = set()
  for g in groups:
    coords = [np.unravel_index(i, tuple(mesh_shape)) for i in g]
    for a in range(len(mesh_shape)):
      if len({c[a] for c in coords}) > 1:
        spanned.add(a)
  return tuple(axis_names[a] for a in sorted(spanned))


@dataclasses.dataclass(frozen=True)
class Collective:
  """One collective op of a compiled program.

  Attributes:
    kind: one of COLLECTIVE_KINDS.
    name: instruction name.
    bytes_sent: bytes one device sends for it (ring cost model).
    group_size: devices per group (2 for a permute pair).
    groups: partition-id groups (permutes: source/target pairs).
  """

  kind: str
  name: str
  bytes_sent: float
  group_size: int
  groups: tuple[tuple[int, ...], ...]


def collectives(text: str) -> list[Collective]:
  """Every collective op in a compiled module (async pairs once)."""
  mod = Module(text)
  out = []
  for comp in mod.comps.values():
    for instr in comp:
      kind = instr.opcode[:-len('-start')] if instr.opcode.endswith(
          '-start') else instr.opcode
      if kind not in COLLECTIVE_KINDS:
        continue
      groups = _groups(instr.attrs) or []
      k = max((len(g) for g in groups), default=0) or 1
      size_in = mod.operand_bytes(instr)
      if kind == 'collective-permute':
        sent = size_in
        k = 2
      elif kind == 'all-gather':
        sent = size_in * (k - 1)
      elif kind == 'reduce-scatter':
        sent = size_in * (k - 1) / k
      elif kind == 'all-reduce':
        sent = 2 * size_in * (k - 1) / k
      else:
        sent = size_in * (k - 1) / k
      out.append(Collective(kind, instr.name, sent, k,
                            tuple(tuple(g) for g in groups)))
  return out


def count_collectives(text: str) -> dict[str, int]:
  """{kind: number of ops} for every kind in COLLECTIVE_KINDS."""
  counts = {k: 0 for k in COLLECTIVE_KINDS}
  for c in collectives(text):
    counts[c.kind] += 1
  return counts


def matmul_chain(text: str) -> tuple[int, int]:
  """(matmuls, longest chain of dependent ones) of the busiest computation.

  The busiest computation is the one with the most matmuls (after
  optimization the entry; before, e.g. a shard_map body). Fusions and calls
  containing a matmul count as one matmul. A chain is a sequence of matmuls
  each reachable from the previous through data or control dependencies.
  """
  mod = Module(text)
  best = (0, 0)
  for comp in mod.comps.values():
    depth: dict[str, int] = {}
    count = 0
    for instr in comp:
      mm = mod.is_matmul(instr)
      count += mm
      depth[instr.name] = max((depth.get(o, 0) for o in instr.operands),
                              default=0) + int(mm)
    best = max(best, (count, max(depth.values(), default=0)))
  return best


@dataclasses.dataclass(frozen=True)
class Overlap:
  """Matmuls the schedule places inside one asynchronous collective.

  Attributes:
    kind: collective kind (or 'async' for a generic async-start).
    start: name of its start instruction.
    matmuls: matmuls scheduled strictly between its start and done.
    bytes_sent: bytes per device (ring cost model).
  """

  kind: str
  start: str
  matmuls: int
  bytes_sent: float


def async_overlap(text: str) -> list[Overlap]:
  """For each `*-start` / `*-done` pair, the matmuls scheduled in between.

  Empty when the backend runs collectives synchronously (no start/done
  pairs, e.g. XLA:CPU).
  """
  mod = Module(text)
  sent = {c.name: c.bytes_sent for c in collectives(text)}
  out = []
  for comp in mod.comps.values():
    names = [i.name for i in comp]
    for pos, instr in enumerate(comp):
      if not instr.opcode.endswith('-start'):
        continue
      kind = instr.opcode[:-len('-start')]
      done = next((j for j in range(pos + 1, len(comp))
                   if comp[j].opcode.endswith('-done')
                   and instr.name in comp[j].operands), None)
      if done is None:
        continue
      n = sum(mod.is_matmul(i) for i in comp[pos + 1:done])
      out.append(Overlap(kind, names[pos], n, sent.get(instr.name, 0.0)))
  return out


# Opcodes that only move data: their output is a rearrangement of their
# inputs (no arithmetic), so every byte they write is layout overhead.
DATA_MOVEMENT_OPS = ('copy', 'transpose', 'concatenate', 'slice',
                     'dynamic-slice', 'pad')


def _roots(text: str) -> dict[str, str]:
  """{computation name: name of its ROOT instruction}."""
  roots, current = {}, None
  for line in text.splitlines():
    head = _comp_head(line)
    if head:
      current = head.group(2)
      continue
    root = re.match(r'\s*ROOT\s+%?([\w.\-]+)\s*=', line)
    if root and current is not None:
      roots[current] = root.group(1)
  return roots


def data_movement(text: str) -> tuple[int, float]:
  """(ops, bytes) of the data-movement instructions of a module.

  Counted, each with the bytes of its result:
  * every instruction whose opcode is in DATA_MOVEMENT_OPS, in every
    computation, fusion bodies included: a slice or transpose XLA fuses
    into a loop still has that loop produce its elements through index
    arithmetic and strided reads;
  * every fusion or call whose root is one (followed through nested fusions
    and calls, e.g. XLA:CPU's `parallel_fusion` calls wrapping a loop
    fusion; a root `tuple` counts its data-movement outputs): the buffer it
    materialises. Such a copy thus counts twice, once as the instruction
    and once as the buffer written.
  This is the measure of issue 22 (ViT-B/16 block, forward and backward:
  fused 63 ops / 224.1 MiB, sequential 42 / 78.6 before the fix). It is a
  structural count, independent of the machine's load; compare programs
  compiled by the same XLA.

  Args:
    text: HLO module text, e.g. `jax.jit(f).lower(...).compile().as_text()`.

  Returns:
    (number of counted instructions, their bytes).
  """
  mod = Module(text)
  roots = _roots(text)

  def moved(instr: Instr, depth: int = 0) -> float | None:
    """Bytes `instr` materialises by moving data, None if it does not."""
    if instr.opcode in DATA_MOVEMENT_OPS:
      return shape_bytes(instr.shape)
    if depth > 32:
      return None
    if instr.opcode == 'tuple':
      parts = [moved(mod.defs[o], depth + 1) for o in instr.operands
               if o in mod.defs]
      parts = [b for b in parts if b is not None]
      return sum(parts) if parts else None
    if instr.opcode in ('fusion', 'call'):
      callee = (_callee(instr) or [''])[0]
      root = next((i for i in mod.comps.get(callee, ())
                   if i.name == roots.get(callee)), None)
      if root is not None:
        return moved(root, depth + 1)
    return None

  # Bodies of fusions and calls: their own fusions / calls are part of the
  # outer one's buffer, counted there.
  bodies = {c for comp in mod.comps.values() for i in comp
            if i.opcode in ('fusion', 'call') for c in _callee(i)}
  ops, nbytes = 0, 0.0
  for name, comp in mod.comps.items():
    for instr in comp:
      if instr.opcode in DATA_MOVEMENT_OPS:
        b = shape_bytes(instr.shape)
      elif instr.opcode in ('fusion', 'call') and name not in bodies:
        b = moved(instr)
      else:
        continue
      if b is not None:
        ops += 1
        nbytes += b
  return ops, nbytes


def _callee(instr: Instr) -> list[str]:
  """Computations a fusion (calls=) or call (to_apply=) runs."""
  return re.findall(r'(?:calls|to_apply)=%?([\w.\-]+)', instr.attrs)
