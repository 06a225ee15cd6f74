# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Progress lines and log routing: every warning and error reaches the
console, the full log goes to the job's file, nothing is written before the
job directory exists."""

import contextlib
import io
import logging
import os
import sys
import tempfile
import types
from unittest import mock

from absl import logging as absl_logging
from absl.testing import absltest

from vit22b_pax.runtime import console
from vit22b_pax.runtime import jobdir


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
    console._ROUTED.clear()  # pylint: disable=protected-access

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

  def test_busy_job_dir_log_not_written_until_locked(self):
    job = tempfile.mkdtemp()
    lock = jobdir.lock_path(job)
    with open(lock, 'w') as f:  # Another run's lock file.
      f.write('{"pid": 1}')
    with contextlib.redirect_stderr(io.StringIO()):
      path = console.route_logs(job, host=0)
      absl_logging.info('line of a run refused on a busy directory')
      self.assertFalse(os.path.exists(path))
      os.remove(lock)
      jobdir.acquire(job)
      try:
        absl_logging.info('now this run holds the lock')
      finally:
        jobdir.release(job)
    log = open(path).read()
    self.assertIn('now this run holds the lock', log)
    self.assertIn('refused on a busy directory', log)  # Kept, then written.

  def _without_tool_filters(self):
    # Tools run in-process by other tests (predict, export, import_weights)
    # leave quiet_harmless()'s filter on absl's logger; start without it.
    absl_logger = logging.getLogger('absl')
    saved = list(absl_logger.filters)
    self.addCleanup(lambda: setattr(absl_logger, 'filters', saved))
    absl_logger.filters = [f for f in saved
                           if not isinstance(f, console._Harmless)]  # pylint: disable=protected-access
    return absl_logger

  def test_harmless_library_records_stay_off_the_console(self):
    self._without_tool_filters()
    job = tempfile.mkdtemp()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
      path = console.route_logs(job)
      harmless = [
          ('absl', logging.WARNING, 'Configured `CheckpointManager` using '
           'deprecated legacy API. Please follow the instructions at ... to '
           'migrate by May 1st, 2024.'),
          ('absl', logging.WARNING, 'No registered CheckpointArgs found for '
           "handler type: <class 'paxml.checkpoints.PaxCheckpointHandler'>"),
          ('absl', logging.ERROR, 'For checkpoint version > 1.0, we require '
           'users to provide `train_state_unpadded_shape_dtype_struct`')]
      for name, level, msg in harmless:
        logging.getLogger(name).log(level, msg)
      logging.getLogger('orbax').warning('a real warning')
    self.assertEqual(err.getvalue().count('\n'), 1, err.getvalue())
    self.assertIn('a real warning', err.getvalue())
    log = open(path).read()
    for _, _, msg in harmless:
      self.assertIn(msg, log)

  def test_tools_drop_harmless_records_only(self):
    absl_logger = self._without_tool_filters()
    saved = list(absl_logger.filters)
    console.quiet_harmless()
    console.quiet_harmless()  # Once.
    self.assertLen(absl_logger.filters, len(saved) + 1)
    with self.assertLogs('absl', level='WARNING') as logs:
      absl_logger.warning('Configured `CheckpointManager` using deprecated '
                          'legacy API. ... migrate by May 1st, 2024.')
      absl_logger.warning('a real warning')
    self.assertEqual([r.getMessage() for r in logs.records],
                     ['a real warning'])

  def test_attached_under_paxml_main_only(self):
    job = os.path.join(tempfile.mkdtemp(), 'job')
    # Not paxml.main (pytest): nothing changes.
    self.assertFalse(console.attach_to_paxml_main())
    self.assertFalse(console.routed())
    fake_main = types.SimpleNamespace(
        __spec__=types.SimpleNamespace(name='paxml.main'))
    known = []  # paxml's flags, parsed later.
    err = io.StringIO()
    with mock.patch.dict(sys.modules, {'__main__': fake_main}), \
         mock.patch.object(console, '_paxml_job',
                           lambda: known[0] if known else None), \
         contextlib.redirect_stderr(err):
      self.assertTrue(console.attach_to_paxml_main())
      self.assertFalse(console.attach_to_paxml_main())  # Once.
      absl_logging.info('Registered-style info before the flags')
      known.append((job, 'pax.log'))
      absl_logging.info('info once the job dir is known')
      self.assertFalse(os.path.exists(job))  # paxml has not created it.
      os.makedirs(job)
      absl_logging.info('info after paxml created the job dir')
      absl_logging.warning('a warning')
    log = open(os.path.join(job, 'logs', 'pax.log')).read()
    for text in ('before the flags', 'once the job dir is known',
                 'after paxml created', 'a warning'):
      self.assertIn(text, log)
    lines = err.getvalue().splitlines()
    self.assertEqual(lines[0], f'Log: {job}/logs/pax.log')
    self.assertLen(lines, 2)
    self.assertIn('a warning', lines[1])

  def test_host_log_names(self):
    job = tempfile.mkdtemp()
    self.assertEqual(console.route_logs(job, host=1),
                     os.path.join(job, 'logs', 'pax.host1.log'))

  def test_remote_or_verbose_keeps_paxml_default(self):
    self.assertIsNone(console.route_logs('gs://bucket/job'))
    self.assertIsNone(console.route_logs('/tmp/x', verbose=True))


if __name__ == '__main__':
  absltest.main()
