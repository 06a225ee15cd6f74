# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The scripted new-user journey (tests/tools/new_user_journey.py) end to
end: every README command works as printed and the console stays readable
(slow: it trains, imports, probes and exports)."""

import json
import os
import subprocess
import sys
import tempfile

from absl.testing import absltest

from tests.tools import new_user_journey

# Console lines a step may print (a 20-step smoke job: ~13 lines of paxml's
# JAX setup before the experiment loads, 24 progress lines, the summary).
MAX_LINES = 50


class NewUserJourneyTest(absltest.TestCase):

  def test_the_readme_in_order(self):
    # JOURNEY_OUT keeps the transcript (journey.txt) where asked.
    out = os.environ.get('JOURNEY_OUT') or tempfile.mkdtemp(
        prefix='vit22b_journey_')
    proc = subprocess.run(
        [sys.executable, '-m', 'tests.tools.new_user_journey', out],
        cwd=new_user_journey.ROOT, capture_output=True, text=True,
        check=False, timeout=3000)
    self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
    with open(os.path.join(out, 'journey.json')) as f:
      steps = {s['step']: s for s in json.load(f)}
    bad_inputs = ('missing data_dir', 'split without images',
                  'class outside the class list')
    for name, step in steps.items():
      text = '\n'.join(step['lines'])
      self.assertNotIn('Traceback', text, name)
      self.assertLessEqual(len(step['lines']), MAX_LINES, name)
      for noise in ('Registered experiment', 'May 1st, 2024',
                    'train_state_unpadded_shape_dtype_struct',
                    'has no integrity manifest'):
        self.assertNotIn(noise, text, name)
      if name not in bad_inputs:
        self.assertEqual(step['rc'], 0, f'{name}: {text[-2000:]}')
    train = steps['train']['lines']
    self.assertIn('[start] training 20 steps from scratch', train)
    self.assertTrue(any(l.startswith('[train] step     20/20') for l in train))
    again = '\n'.join(steps['train again']['lines'])
    self.assertIn("nothing to train (raise the recipe's steps= argument", again)
    further = [l for l in steps['train further']['lines']
               if l.startswith('[')]
    self.assertRegex(further[0], r'^\[resume\] from step 20 of 24: '
                     r'checkpoint .*checkpoint_00000020$')
    self.assertTrue(any(l.startswith('[train]')
                        for l in steps['registered experiment']['lines']))
    probe = [l for l in steps['probe']['lines'] if l.startswith('[')]
    self.assertRegex(probe[0], r'^\[warm start\] from .*vit_ti16/checkpoints/'
                     r'checkpoint_00000000 \(step 0\); training 20 steps$')
    self.assertTrue(any(l.startswith('[train] step     20/20') for l in probe))
    self.assertRegex('\n'.join(steps['predict']['lines']),
                     r'restored step 0 .*\n.*/red/0\.png\n  1\. (red|green|blue) ')
    for name, path in (('missing data_dir', 'no_such_folder'),
                       ('split without images', 'empty_test/test'),
                       ('class outside the class list', 'zebra')):
      lines = steps[name]['lines']
      self.assertEqual(steps[name]['rc'], 1, name)
      self.assertLen(lines, 2, f'{name}: {lines}')
      self.assertTrue(lines[0].startswith('Error: '), lines)
      self.assertIn(path, lines[0])
      self.assertEqual(lines[1], '(no job directory written)')


if __name__ == '__main__':
  absltest.main()
