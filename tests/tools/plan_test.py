# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""`python -m vit22b_pax.tools.plan` prints and writes the scale plan."""

import contextlib
import io
import json
import os
import tempfile

from absl.testing import absltest
from praxis import test_utils

from vit22b_pax.tools import plan as plan_tool


class PlanToolTest(test_utils.TestCase):

  def test_paper_setup_json_and_text(self):
    with tempfile.TemporaryDirectory() as tmp:
      out = os.path.join(tmp, 'plan.json')
      buf = io.StringIO()
      with contextlib.redirect_stdout(buf):
        rc = plan_tool.main(['--variant', '22B/14', '--mesh',
                             'data=256,mdl=4', '--chip', 'tpu-v4',
                             '--batch', '65536', '--json', out])
      self.assertEqual(rc, 0)
      with open(out) as f:
        got = json.load(f)
    text = buf.getvalue()
    self.assertIn('1024 x tpu-v4', text)
    self.assertIn('fsdp_all_gather_weights(data)', text)
    self.assertEqual(got['mesh'], {'data': 256, 'mdl': 4})
    self.assertEqual(got['batch_per_device'], 256)
    self.assertAlmostEqual(got['num_params'] / 1e9, 22.21, delta=0.01)
    self.assertIn('network/blocks/block/w_in', [w['name'] for w in got['weights']])
    mem = got['memory_bytes']
    self.assertAlmostEqual(mem['total'], sum(
        v for k, v in mem.items() if k != 'total'))
    # 'full' (no remat) keeps every block's residuals: does not fit.
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
      plan_tool.main(['--remat', 'full'])
    self.assertIn('DOES NOT FIT', buf.getvalue())

  def test_bad_mesh(self):
    with self.assertRaisesRegex(ValueError, 'Bad --mesh entry'):
      plan_tool.main(['--mesh', 'data=two'])
    with self.assertRaisesRegex(ValueError, "mesh axis 'fsdp'"):
      plan_tool.main(['--mesh', 'fsdp=4'])


if __name__ == '__main__':
  absltest.main()
