# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Progress lines and log routing: every warning and error reaches the
console, the full log goes to the job's file, nothing is written before the
job directory exists."""

import contextlib
import io
import logging
import os
import tempfile

from absl import logging as absl_logging
from absl.testing import absltest

from vit22b_pax.runtime import console


class LinesTest(absltest.TestCase):

  def test_train_line(self):
    line = console.train_line(
        100, 2000, {'loss': 2.86491, 'accuracy': 0.140625, 'shape_bias': 0.5,
                    'total_loss': 2.86491, 'xent': 9.0}, 10.0, (0.0493, 0.155))
    self.assertEqual(
        line, '[train] step    100/2000 | loss 2.8649 | accuracy 0.1406 | '
        'steps/s 10.00 | 49.3 GFLOP/s | MFU 15.5% | ETA 3m10s')
    self.assertEqual(console.train_line(5, 5, {'loss': 1.0}),
                     '[train] step      5/5 | loss 1.0000')

  def test_eval_line(self):
    self.assertEqual(
        console.eval_line('test', 6, {'total_loss': 3.0, 'accuracy': 0.25,
                                      'acc5': 1.0, 'avg_xent': 3.0}),
        '[eval test] step      6 | total_loss 3.0000 | accuracy 0.2500 | '
        'acc5 1.0000')


class RouteLogsTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    root = logging.getLogger()
    self._saved = (list(root.handlers), root.level)
    self.addCleanup(self._restore)

  def _restore(self):
    root = logging.getLogger()
    for handler in list(root.handlers):
      if handler not in self._saved[0]:
        root.removeHandler(handler)
        handler.close()
    for handler in self._saved[0]:
      if handler not in root.handlers:
        root.addHandler(handler)
    root.setLevel(self._saved[1])

  def test_errors_reach_console_info_goes_to_file(self):
    job = os.path.join(tempfile.mkdtemp(), 'job')
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
      path = console.route_logs(job)
      absl_logging.info('early info before the job dir exists')
      self.assertFalse(os.path.exists(job))  # Nothing written yet.
      os.makedirs(job)
      records = [('tensorstore', logging.ERROR, 'tensorstore write failed'),
                 ('orbax', logging.ERROR, 'checkpoint save error'),
                 ('jax._src.dispatch', logging.WARNING, 'compile warning'),
                 ('absl', logging.CRITICAL, 'critical failure'),
                 ('paxml', logging.ERROR, 'Requested key not found')]
      for name, level, msg in records:
        logging.getLogger(name).log(level, msg)
      absl_logging.info('plain info line')
    console_text = err.getvalue()
    for _, _, msg in records:
      self.assertIn(msg, console_text)
    self.assertNotIn('plain info line', console_text)
    self.assertEqual(path, os.path.join(job, 'logs', 'pax.log'))
    log = open(path).read()
    for text in ('early info before the job dir exists', 'plain info line',
                 'tensorstore write failed'):
      self.assertIn(text, log)

  def test_remote_or_verbose_keeps_paxml_default(self):
    self.assertIsNone(console.route_logs('gs://bucket/job'))
    self.assertIsNone(console.route_logs('/tmp/x', verbose=True))


if __name__ == '__main__':
  absltest.main()
