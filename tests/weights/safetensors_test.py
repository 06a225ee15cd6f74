# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The numpy safetensors reader against files written from the spec."""

import json
import os
import struct
import tempfile

from absl.testing import absltest
import ml_dtypes
import numpy as np

from tests.weights import reference as ref
from vit22b_pax.weights import safetensors


def _path():
  return os.path.join(tempfile.mkdtemp(), 'm.safetensors')


def _raw(header: dict, data: bytes) -> str:
  path = _path()
  raw = json.dumps(header).encode()
  with open(path, 'wb') as f:
    f.write(struct.pack('<Q', len(raw)) + raw + data)
  return path


class SafeTensorsTest(absltest.TestCase):

  def test_reads_what_the_spec_writes(self):
    rng = np.random.default_rng(0)
    tensors = {
        'a.weight': rng.standard_normal((3, 4)).astype(np.float32),
        'half': rng.standard_normal((5,)).astype(np.float16),
        'brain': rng.standard_normal((2, 3)).astype(ml_dtypes.bfloat16),
        'double': rng.standard_normal((2, 2, 2)),
        'ids': np.arange(6, dtype=np.int64).reshape(2, 3),
        'scalar': np.array(3.5, np.float32),
        'empty': np.zeros((0, 4), np.float32),
    }
    path = _path()
    ref.write_safetensors(path, tensors, {'format': 'pt'})
    st = safetensors.SafeTensors(path)
    self.assertEqual(st.metadata, {'format': 'pt'})
    self.assertCountEqual(st.keys(), tensors)
    for name, value in tensors.items():
      self.assertEqual(st.shape(name), value.shape, name)
      got = st[name]
      self.assertEqual(got.dtype, value.dtype, name)
      np.testing.assert_array_equal(got, value, err_msg=name)

  def test_bad_files_name_the_problem(self):
    with self.assertRaisesRegex(ValueError, 'No safetensors file'):
      safetensors.SafeTensors('/nonexistent/x.safetensors')
    short = _path()
    with open(short, 'wb') as f:
      f.write(b'\x01\x02')
    with self.assertRaisesRegex(ValueError, 'shorter than the 8-byte'):
      safetensors.SafeTensors(short)
    huge = _path()
    with open(huge, 'wb') as f:
      f.write(struct.pack('<Q', 10**6) + b'{}')
    with self.assertRaisesRegex(ValueError, 'header size 1000000 does not '
                                'fit'):
      safetensors.SafeTensors(huge)
    not_json = _path()
    with open(not_json, 'wb') as f:
      f.write(struct.pack('<Q', 3) + b'abc')
    with self.assertRaisesRegex(ValueError, 'not UTF-8 JSON'):
      safetensors.SafeTensors(not_json)
    with self.assertRaisesRegex(ValueError, 'JSON list, expected an object'):
      safetensors.SafeTensors(_raw([], b''))

  def test_bad_entries_name_the_tensor(self):
    entry = {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]}
    with self.assertRaisesRegex(ValueError, r"tensor 'w': unknown dtype "
                                r"'F128'"):
      safetensors.SafeTensors(_raw({'w': dict(entry, dtype='F128')},
                                   bytes(8)))
    with self.assertRaisesRegex(ValueError, r"tensor 'w': data_offsets "
                                r'\[0, 8\] hold 8 bytes but F32 \[3\] needs '
                                '12'):
      safetensors.SafeTensors(_raw({'w': dict(entry, shape=[3])}, bytes(8)))
    with self.assertRaisesRegex(ValueError, r"tensor 'w': data_offsets "
                                r'\[0, 16\] are not'):
      safetensors.SafeTensors(_raw({'w': dict(entry, data_offsets=[0, 16])},
                                   bytes(8)))
    with self.assertRaisesRegex(ValueError, "tensor 'v': starts at byte 4"):
      safetensors.SafeTensors(_raw({
          'w': entry, 'v': dict(entry, data_offsets=[4, 12])}, bytes(12)))
    with self.assertRaisesRegex(ValueError, 'end at byte 8 of the 12-byte'):
      safetensors.SafeTensors(_raw({'w': entry}, bytes(12)))
    with self.assertRaisesRegex(ValueError, "has no tensor 'x'"):
      _ = safetensors.SafeTensors(_raw({'w': entry}, bytes(8)))['x']


if __name__ == '__main__':
  absltest.main()
