# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The workflow results table: distillation rows from a distill_gain run."""

import argparse
import json
import os
import tempfile

from absl.testing import absltest

from vit22b_pax.tools import distill_gain
from vit22b_pax.tools import results


def _gain_json(path):
  rows = [dict(seed=s, distilled=d, scratch=c, teacher=0.7,
               seconds={'distilled': 600 + s, 'scratch': 400 + s},
               commands={'distilled': f'-m x --seed={s} distil',
                         'scratch': f'-m x --seed={s} scratch'})
          for s, d, c in ((0, 0.55, 0.44), (1, 0.53, 0.45))]
  with open(path, 'w') as f:
    json.dump({'args': {'steps': 3000}, 'rows': rows,
               'summary': distill_gain.summarize(rows, 2048)}, f)


class ResultsTest(absltest.TestCase):

  def test_distill_rows_from_a_gain_run(self):
    path = os.path.join(tempfile.mkdtemp(), 'gain.json')
    _gain_json(path)
    distilled, scratch = results.distill_rows(path)
    self.assertAlmostEqual(distilled['value'], 0.54)
    self.assertAlmostEqual(distilled['spread'], 0.0141421, places=6)
    self.assertEqual((distilled['seeds'], distilled['seconds']), (2, 600))
    self.assertEqual(scratch['command'], '-m x --seed=0 scratch')
    args = argparse.Namespace(steps=2000, warm_steps=500, distill_json=path)
    table = results.markdown([distilled, scratch], args)
    self.assertIn(f'--warm_steps 500 --distill_json {path}`', table)
    self.assertIn('| distilled student 2x64 | procedural | test top-1 | '
                  '0.540 ± 0.014 (3000 steps, 2 seeds) | 600 |', table)
    self.assertIn('| same student from scratch | procedural | test top-1 | '
                  '0.445 ± 0.007 (3000 steps, 2 seeds) | 400 |', table)

  def test_single_runs_print_one_number(self):
    args = argparse.Namespace(steps=2000, warm_steps=500, distill_json=None)
    row = dict(workflow='pretrain (sigmoid)', data='procedural',
               metric='test top-1', value=0.6855, seconds=383)
    self.assertIn('| pretrain (sigmoid) | procedural | test top-1 | 0.685 | '
                  '383 |', results.markdown([row], args))

  def test_bad_distill_json_stops_before_any_run(self):
    path = os.path.join(tempfile.mkdtemp(), 'bad.json')
    with open(path, 'w') as f:
      json.dump({'rows': []}, f)
    with self.assertRaisesRegex(ValueError, 'not a distill_gain JSON'):
      results.distill_rows(path)
    with self.assertRaises(SystemExit):
      results.main(['--distill_json', path, '--out', tempfile.mkdtemp()])


if __name__ == '__main__':
  absltest.main()
