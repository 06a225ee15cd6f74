# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""CLI: python -m vit22b_pax.tools.model_vs_human."""

import contextlib
import io
import json
import os
import tempfile

from absl.testing import absltest

from tests.eval import model_vs_human_test as mt
from vit22b_pax.tools import model_vs_human as cli


class ModelVsHumanCliTest(absltest.TestCase):

  def test_report_json_plot(self):
    d = tempfile.mkdtemp()
    humans = os.path.join(d, 'humans')
    os.makedirs(humans)
    mt.write(f'{humans}/a.csv', 'subject-01', mt.A)
    mt.write(f'{humans}/b.csv', 'subject-02', mt.B)
    model = mt.write(f'{d}/c.csv', 'modelC', mt.C)
    out_json, out_png = f'{d}/r.json', f'{d}/r.png'
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
      rc = cli.main(['--responses', model, '--humans', humans,
                     '--json', out_json, '--plot', out_png])
    self.assertEqual(rc, 0)
    self.assertIn('modelC', buf.getvalue())
    with open(out_json) as f:
      res = json.load(f)
    self.assertEqual(list(res['observers']), ['modelC'])
    self.assertAlmostEqual(
        res['observers']['modelC']['vs_humans']['error_consistency'],
        (2 / 3 - 2 / 7) / 2)
    self.assertIsNone(  # NaN (no oven shapes) -> null
        res['observers']['modelC']['per_category_shape_bias']['oven'])
    self.assertGreater(os.path.getsize(out_png), 1000)

  def test_bad_input_exit_code(self):
    path = os.path.join(tempfile.mkdtemp(), 'bad.csv')
    with open(path, 'w') as f:
      f.write(mt.HEADER + '\nm,1,1,0.5,cat,cat,0,x_cat1-dog.png\n')
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
      self.assertEqual(cli.main(['--responses', path]), 2)
    self.assertIn(f'{path}, line 2', err.getvalue())


if __name__ == '__main__':
  absltest.main()
