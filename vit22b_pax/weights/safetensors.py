# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A numpy reader of the safetensors format (no torch, no pickle).

Format (https://github.com/huggingface/safetensors, "Format"):

  [8 bytes]  N, unsigned 64-bit little-endian: size of the header
  [N bytes]  JSON object, UTF-8: {name: {"dtype": "F32", "shape": [...],
             "data_offsets": [begin, end]}, ..., optional "__metadata__":
             {str: str}}
  [rest]     the byte buffer; offsets are relative to its start; tensors
             are little-endian, row-major (C order), and tile the buffer
             without gaps or overlaps.

The file is memory-mapped and each tensor is read only when asked for.
Everything is checked against the spec before a value is returned: a header
that is not a JSON object, an unknown dtype, offsets outside the buffer or
not matching the shape, overlapping or gapped tensors all raise a ValueError
naming the file and the tensor.
"""

from __future__ import annotations

import json
import math
import os
import struct
from typing import Iterator

import ml_dtypes
import numpy as np

# safetensors dtype name -> numpy dtype (little-endian).
DTYPES = {
    'BOOL': np.dtype(np.bool_), 'U8': np.dtype('<u1'), 'I8': np.dtype('<i1'),
    'U16': np.dtype('<u2'), 'I16': np.dtype('<i2'), 'U32': np.dtype('<u4'),
    'I32': np.dtype('<i4'), 'U64': np.dtype('<u8'), 'I64': np.dtype('<i8'),
    'F16': np.dtype('<f2'), 'F32': np.dtype('<f4'), 'F64': np.dtype('<f8'),
    'BF16': np.dtype(ml_dtypes.bfloat16),
    'F8_E4M3': np.dtype(ml_dtypes.float8_e4m3fn),
    'F8_E5M2': np.dtype(ml_dtypes.float8_e5m2),
}
# The reference implementation refuses headers above 100 MB.
MAX_HEADER_BYTES = 100_000_000


class SafeTensors:
  """One .safetensors file: names, shapes, dtypes and lazily read arrays.

  Attributes:
    path: the file.
    metadata: the header's "__metadata__" (str -> str; empty if none).
  """

  def __init__(self, path: str):
    self.path = str(path)
    if not os.path.isfile(self.path):
      raise ValueError(f'No safetensors file at {self.path!r}.')
    size = os.path.getsize(self.path)
    with open(self.path, 'rb') as f:
      head = f.read(8)
      if len(head) < 8:
        raise ValueError(f'{self.path!r} is not a safetensors file: '
                         f'{size} bytes, shorter than the 8-byte header size.')
      (n,) = struct.unpack('<Q', head)
      if n > MAX_HEADER_BYTES or 8 + n > size:
        raise ValueError(f'{self.path!r} is not a safetensors file: header '
                         f'size {n} does not fit in its {size} bytes.')
      raw = f.read(n)
    try:
      header = json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
      raise ValueError(f'{self.path!r}: the safetensors header is not UTF-8 '
                       f'JSON ({e}).') from e
    if not isinstance(header, dict):
      raise ValueError(f'{self.path!r}: the safetensors header is a JSON '
                       f'{type(header).__name__}, expected an object.')
    self.metadata = dict(header.pop('__metadata__', None) or {})
    self._offset = 8 + n
    self._buffer_size = size - self._offset
    self._entries: dict[str, tuple[np.dtype, tuple[int, ...], int, int]] = {}
    for name, entry in header.items():
      self._entries[name] = self._parse_entry(name, entry)
    self._check_tiling()
    self._map = None

  def _parse_entry(self, name, entry):
    where = f'{self.path!r}, tensor {name!r}'
    if not isinstance(entry, dict) or not {'dtype', 'shape', 'data_offsets'
                                           } <= set(entry):
      raise ValueError(f'{where}: expected {{"dtype", "shape", '
                       f'"data_offsets"}}, got {entry!r}.')
    if entry['dtype'] not in DTYPES:
      raise ValueError(f'{where}: unknown dtype {entry["dtype"]!r}; expected '
                       f'one of {sorted(DTYPES)}.')
    dtype = DTYPES[entry['dtype']]
    shape = entry['shape']
    offsets = entry['data_offsets']
    if (not isinstance(shape, list) or
        not all(isinstance(s, int) and s >= 0 for s in shape)):
      raise ValueError(f'{where}: shape {shape!r} is not a list of '
                       'non-negative integers.')
    if (not isinstance(offsets, list) or len(offsets) != 2 or
        not all(isinstance(o, int) for o in offsets) or
        not 0 <= offsets[0] <= offsets[1] <= self._buffer_size):
      raise ValueError(f'{where}: data_offsets {offsets!r} are not a '
                       f'[begin, end] range inside the {self._buffer_size}-'
                       'byte buffer.')
    nbytes = math.prod(shape) * dtype.itemsize
    if offsets[1] - offsets[0] != nbytes:
      raise ValueError(f'{where}: data_offsets {offsets} hold '
                       f'{offsets[1] - offsets[0]} bytes but {entry["dtype"]} '
                       f'{shape} needs {nbytes}.')
    return dtype, tuple(shape), offsets[0], offsets[1]

  def _check_tiling(self):
    """The tensors cover the buffer exactly, in some order (the spec)."""
    end = 0
    for name, (_, _, begin, stop) in sorted(self._entries.items(),
                                            key=lambda kv: kv[1][2:]):
      if begin != end:
        raise ValueError(f'{self.path!r}, tensor {name!r}: starts at byte '
                         f'{begin} of the buffer, expected {end} (tensors '
                         'must tile the buffer without gaps or overlaps).')
      end = stop
    if end != self._buffer_size:
      raise ValueError(f'{self.path!r}: the tensors end at byte {end} of the '
                       f'{self._buffer_size}-byte buffer.')

  def keys(self) -> list[str]:
    return list(self._entries)

  def __contains__(self, name: str) -> bool:
    return name in self._entries

  def __iter__(self) -> Iterator[str]:
    return iter(self._entries)

  def __len__(self) -> int:
    return len(self._entries)

  def shape(self, name: str) -> tuple[int, ...]:
    return self._entry(name)[1]

  def dtype(self, name: str) -> np.dtype:
    return self._entry(name)[0]

  def _entry(self, name):
    if name not in self._entries:
      raise ValueError(f'{self.path!r} has no tensor {name!r}.')
    return self._entries[name]

  def __getitem__(self, name: str) -> np.ndarray:
    """The tensor as a numpy array (a copy, in its stored dtype)."""
    dtype, shape, begin, stop = self._entry(name)
    if self._map is None and self._buffer_size:
      self._map = np.memmap(self.path, np.uint8, 'r', offset=self._offset,
                            shape=(self._buffer_size,))
    if stop == begin:
      return np.zeros(shape, dtype)
    return np.frombuffer(self._map[begin:stop].tobytes(), dtype).reshape(shape)
