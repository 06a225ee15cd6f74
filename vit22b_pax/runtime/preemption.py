# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""SIGTERM -> save a checkpoint at the current step and stop.

paxml's training loop (`executors._train_and_evaluate_common`) asks the train
program `should_run(state, step)` at the top of every iteration, right after
`checkpointer.save_if_needed`; when it says no, the loop ends and
`checkpointer.save_final` saves the current state unless that step is
already saved. `ViT22BTrainProgram.should_run` asks `requested(step)`:

  * one process: `install()` sets a SIGTERM handler that only records the
    signal (a handler must not touch JAX); the step running when it arrives
    finishes, then the loop stops and saves that step. The default action is
    restored at once, so a second SIGTERM kills the process;
  * several processes (`jax.distributed` initialised): the hosts must stop at
    the same step. JAX's coordination service already listens for SIGTERM on
    every host and agrees on a step (`multihost_utils.
    reached_preemption_sync_point`, which paxml's checkpoint manager also
    asks in `should_save`, saving there); `requested` returns True at that
    step on every host. No Python handler is installed then (it would
    replace the coordination service's).

Only the main thread can install a handler; elsewhere (`install` called from
another thread) nothing is installed and SIGTERM keeps its default action.
"""

from __future__ import annotations

import signal
import threading
import time

from absl import logging
import jax

_STATE = {'time': None, 'signum': None, 'stopped_at': None,
          'previous': None, 'installed': False}


def _distributed() -> bool:
  from jax._src import distributed  # pylint: disable=g-import-not-at-top
  return (jax.process_count() > 1 and
          distributed.global_state.preemption_sync_manager is not None)


def _handler(signum, frame) -> None:
  del frame
  _STATE['time'] = time.time()
  _STATE['signum'] = signum
  # A second SIGTERM gets the default action (terminate now).
  signal.signal(signum, signal.SIG_DFL)


def install() -> str:
  """Arms SIGTERM handling for a training run.

  Returns:
    'handler' (our handler), 'jax' (the coordination service's, several
    processes) or 'none' (not on the main thread).
  """
  reset()
  if _distributed():
    return 'jax'
  if threading.current_thread() is not threading.main_thread():
    logging.warning('Not on the main thread: SIGTERM will not save a '
                    'checkpoint.')
    return 'none'
  _STATE['previous'] = signal.signal(signal.SIGTERM, _handler)
  _STATE['installed'] = True
  return 'handler'


def uninstall() -> None:
  """Restores the SIGTERM action that was set before `install`."""
  if _STATE['installed']:
    previous = _STATE['previous']
    signal.signal(signal.SIGTERM,
                  signal.SIG_DFL if previous is None else previous)
    _STATE['installed'] = False


def reset() -> None:
  """Forgets a recorded signal (a new run in the same process)."""
  _STATE.update(time=None, signum=None, stopped_at=None)


def signalled() -> bool:
  """Whether SIGTERM arrived (this process's handler)."""
  return _STATE['signum'] is not None


def requested(step: int) -> bool:
  """Whether training must stop (and save) at `step`; remembers the step.

  Call at every step on every process (with several processes it is a
  collective agreement).
  """
  stop = signalled()
  if not stop and _distributed():
    from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
    stop = multihost_utils.reached_preemption_sync_point(step)
  if stop and _STATE['stopped_at'] is None:
    _STATE['stopped_at'] = step
    logging.warning('Preemption (SIGTERM): stopping at step %d to save a '
                    'checkpoint.', step)
  return stop


def stopped_at() -> int | None:
  """The step training stopped at for a preemption (None: it did not)."""
  return _STATE['stopped_at']


def seconds_since_signal() -> float | None:
  return None if _STATE['time'] is None else time.time() - _STATE['time']
