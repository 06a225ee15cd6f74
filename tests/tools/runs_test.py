# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Job-launch helpers: flag quoting, README sections, summary reading."""

import os
import tempfile

from absl.testing import absltest
import tensorflow as tf

from vit22b_pax.tools import runs


class RunsTest(absltest.TestCase):

  def test_fdl_value_quotes_strings_only(self):
    self.assertEqual(runs.fdl_value('runs/x'), "'runs/x'")
    self.assertEqual(runs.fdl_value(3), '3')
    self.assertEqual(runs.fdl_value(False), 'False')

  def test_replace_section_inserts_then_replaces(self):
    path = os.path.join(tempfile.mkdtemp(), 'R.md')
    with open(path, 'w') as f:
      f.write('# T\n<!-- RESULTS:x -->\ntail\n')
    runs.replace_section(path, 'RESULTS:x', '| a |')
    runs.replace_section(path, 'RESULTS:x', '| b |')
    text = open(path).read()
    self.assertEqual(
        text, '# T\n<!-- RESULTS:x -->\n| b |\n<!-- /RESULTS:x -->\ntail\n')
    with self.assertRaisesRegex(ValueError, 'no .*RESULTS:y'):
      runs.replace_section(path, 'RESULTS:y', 'z')

  def test_scalars_reads_event_files(self):
    job = tempfile.mkdtemp()
    writer = tf.summary.create_file_writer(
        os.path.join(job, 'summaries', 'eval_test_test'))
    with writer.as_default():
      for step, value in ((10, 0.25), (20, 0.75)):
        tf.summary.scalar('Metrics/accuracy', value, step=step)
    writer.close()
    self.assertEqual(runs.scalars(job, 'eval_test_test', 'Metrics/accuracy'),
                     {10: 0.25, 20: 0.75})
    self.assertEqual(runs.last_scalar(job, 'eval_test_test',
                                      'Metrics/accuracy'), 0.75)
    with self.assertRaisesRegex(ValueError, "No summary 'nope'"):
      runs.scalars(job, 'eval_test_test', 'nope')
    with self.assertRaisesRegex(ValueError, 'No summaries in'):
      runs.scalars(job, 'train', 'loss')


if __name__ == '__main__':
  absltest.main()
