# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""preemption.py and the train program's should_run: SIGTERM to this very
process (the end-to-end save is tests/experiments/reliability_test.py)."""

import os
import signal
import threading
import types
from unittest import mock

from absl.testing import absltest
from jax.experimental import multihost_utils

from vit22b_pax.runtime import preemption
from vit22b_pax.runtime import train_program


def _noop(signum, frame):
  del signum, frame


class PreemptionTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    # Whatever happens, a stray SIGTERM must not end the test process.
    self._original = signal.signal(signal.SIGTERM, _noop)
    self.addCleanup(signal.signal, signal.SIGTERM, self._original)
    self.addCleanup(preemption.reset)
    self.addCleanup(preemption.uninstall)

  def test_sigterm_recorded_then_default_then_restored(self):
    self.assertEqual(preemption.install(), 'handler')
    self.assertFalse(preemption.requested(3))
    self.assertIsNone(preemption.stopped_at())
    os.kill(os.getpid(), signal.SIGTERM)
    self.assertTrue(preemption.signalled())
    # A second SIGTERM would terminate at once.
    self.assertIs(signal.getsignal(signal.SIGTERM), signal.SIG_DFL)
    self.assertTrue(preemption.requested(4))
    self.assertTrue(preemption.requested(5))
    self.assertEqual(preemption.stopped_at(), 4)
    self.assertGreaterEqual(preemption.seconds_since_signal(), 0.0)
    preemption.uninstall()
    self.assertIs(signal.getsignal(signal.SIGTERM), _noop)
    preemption.reset()
    self.assertFalse(preemption.signalled())
    self.assertIsNone(preemption.stopped_at())

  def test_should_run_stops_after_sigterm(self):
    program = train_program.ViT22BTrainProgram()
    program._task = types.SimpleNamespace(  # pylint: disable=protected-access
        train=types.SimpleNamespace(num_train_steps=10))
    preemption.install()
    self.assertTrue(program.should_run(None, 3))
    self.assertFalse(program.should_run(None, 10))  # Done: not a preemption.
    self.assertIsNone(preemption.stopped_at())
    os.kill(os.getpid(), signal.SIGTERM)
    self.assertFalse(program.should_run(None, 4))
    self.assertEqual(preemption.stopped_at(), 4)

  def test_several_processes_agree_through_jax(self):
    # With jax.distributed the coordination service catches SIGTERM (on any
    # host) and all hosts reach the sync point at the same step; no Python
    # handler is installed and the signal's time is unknown here.
    asked = []

    def sync_point(step):
      asked.append(step)
      return step >= 7

    self.enter_context(mock.patch.object(preemption, '_distributed',
                                         return_value=True))
    self.enter_context(mock.patch.object(
        multihost_utils, 'reached_preemption_sync_point', sync_point))
    self.assertEqual(preemption.install(), 'jax')
    self.assertIs(signal.getsignal(signal.SIGTERM), _noop)
    self.assertFalse(preemption.requested(6))
    self.assertIsNone(preemption.stopped_at())
    self.assertTrue(preemption.requested(7))
    self.assertTrue(preemption.requested(8))
    self.assertEqual(asked, [6, 7, 8])
    self.assertEqual(preemption.stopped_at(), 7)
    self.assertFalse(preemption.signalled())
    # No "N s after the signal": the signal reached another process.
    self.assertIsNone(preemption.seconds_since_signal())

  def test_not_on_main_thread(self):
    result = []
    thread = threading.Thread(target=lambda: result.append(
        preemption.install()))
    thread.start()
    thread.join()
    self.assertEqual(result, ['none'])
    self.assertIs(signal.getsignal(signal.SIGTERM), _noop)


if __name__ == '__main__':
  absltest.main()
