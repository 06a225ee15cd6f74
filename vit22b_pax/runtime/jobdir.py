# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Job directories: one run at a time, only its own checkpoints.

`prepare()` runs from `ViT22BExperiment.validate()`, i.e. after paxml has set
up JAX and before it writes anything to `--job_log_dir`:

  1. a warm-started job whose job_log_dir is one of its source runs, inside
     one, or containing one is refused (it would resume the source's state,
     and paxml's `save_max_to_keep` garbage collection of
     `<job_log_dir>/checkpoints` would delete the source's checkpoints);
  2. the job directory is locked (`job.lock`, `fcntl.flock`: released by the
     kernel when the process dies, however it dies). A second run on the same
     directory stops at once, naming the holder's pid, host and command; a
     lock file left by a dead run is reported and taken over;
  3. the run's own checkpoints are verified newest first
     (`runtime/integrity.py`); damaged ones newer than the newest intact
     checkpoint are moved to `<job_log_dir>/damaged_checkpoints/` and the
     run resumes from the intact one, saying so;
  4. checkpoints of another experiment (other variables or shapes than this
     task's model) are refused in one line naming both experiments;
  5. a run already at or past `num_train_steps` says so and exits 0
     (`NothingToTrain`; the caller prints its message).

With these, `<job_log_dir>/checkpoints` (the only folder paxml's checkpoint
manager lists and garbage-collects) holds only this experiment's
checkpoints, written by one run at a time. With several processes, process 0
takes the lock and checks; the others wait for it at a barrier.

The lock needs a local (POSIX) filesystem; on `gs://` and other remote job
directories there is no lock (a warning says so), the other checks apply.
"""

from __future__ import annotations

import atexit
import datetime
import errno
import fcntl
import json
import os
import re
import socket
import sys
from typing import Any, Sequence

from absl import logging
from etils import epath
import jax

from vit22b_pax.runtime import checkpoints
from vit22b_pax.runtime import integrity

LOCK_NAME = 'job.lock'
IDENTITY_NAME = 'experiment.vit22b.json'


class NothingToTrain(SystemExit):
  """The job is already at (or past) its last step: exit 0."""

  def __init__(self, message: str):
    super().__init__(0)
    self.message = message


def _is_remote(path: epath.PathLike) -> bool:
  return '://' in os.fspath(path)


def _real(path: epath.PathLike) -> str:
  path = os.fspath(path)
  return path.rstrip('/') if _is_remote(path) else os.path.realpath(path)


def _within(inner: str, outer: str) -> bool:
  return inner == outer or inner.startswith(outer.rstrip('/') + '/')


# -- Lock -------------------------------------------------------------------
class _Lock:
  """An flock'ed lock file (see `acquire`)."""

  def __init__(self, job: str, fd: int, created_dir: bool):
    self.job, self.fd, self.created_dir = job, fd, created_dir
    self.count = 1


_HELD: dict[str, _Lock] = {}


def _read_holder(fd: int) -> dict[str, Any] | None:
  os.lseek(fd, 0, os.SEEK_SET)
  text = os.read(fd, 1 << 16).decode(errors='replace').strip()
  if not text:
    return None
  try:
    return json.loads(text)
  except ValueError:
    return {'raw': text[:200]}


def _holder_text(holder: dict[str, Any] | None) -> str:
  if not holder:
    return 'an unknown process'
  if 'pid' not in holder:
    return f'an unknown process ({holder.get("raw", "")!r})'
  return (f'pid {holder["pid"]} on host {holder.get("host", "?")} (started '
          f'{holder.get("started", "?")}: {holder.get("command", "?")})')


def lock_path(job_log_dir: epath.PathLike) -> str:
  return os.path.join(os.fspath(job_log_dir), LOCK_NAME)


def acquire(job_log_dir: epath.PathLike) -> str | None:
  """Locks a job directory for this process (re-entrant).

  Returns:
    A message when a dead run's lock file was taken over, else None.

  Raises:
    ValueError: another live process holds the lock (naming its pid, host
      and command).
  """
  job = _real(job_log_dir)
  if job in _HELD:
    _HELD[job].count += 1
    return None
  if _is_remote(job):
    logging.warning('No lock on the remote job directory %s: make sure no '
                    'other run uses it.', job)
    return None
  created = not os.path.isdir(job)
  os.makedirs(job, exist_ok=True)
  path = lock_path(job)
  while True:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
      holder = _read_holder(fd)
      os.close(fd)
      if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
        raise
      if created:
        _remove_if_empty(job)
      raise ValueError(
          f'Job directory {job} is in use by another run: '
          f'{_holder_text(holder)}. Wait for it to finish or stop it, or use '
          f'another --job_log_dir (lock file {path}).') from None
    # The holder we waited on may have removed the file before we locked it:
    # only the file still at `path` counts.
    try:
      same = os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
      same = False
    if same:
      break
    os.close(fd)
  previous = _read_holder(fd)
  me = {'pid': os.getpid(), 'host': socket.gethostname(),
        'started': datetime.datetime.now().isoformat(timespec='seconds'),
        'command': ' '.join(sys.argv)[:1000]}
  os.ftruncate(fd, 0)
  os.lseek(fd, 0, os.SEEK_SET)
  os.write(fd, (json.dumps(me) + '\n').encode())
  os.fsync(fd)
  _HELD[job] = _Lock(job, fd, created)
  if previous:
    message = (f'Took over the lock of {job} left by {_holder_text(previous)}'
               ', which is no longer running (it did not exit normally).')
    logging.warning('%s', message)
    return message
  return None


def _remove_if_empty(job: str) -> None:
  try:
    os.rmdir(job)
  except OSError:
    pass


def release(job_log_dir: epath.PathLike, remove_if_empty: bool = False
            ) -> None:
  """Releases this process's lock (no-op if it holds none)."""
  job = _real(job_log_dir)
  lock = _HELD.get(job)
  if lock is None:
    return
  lock.count -= 1
  if lock.count > 0:
    return
  del _HELD[job]
  try:
    os.unlink(lock_path(job))  # While still locked: see acquire().
  except FileNotFoundError:
    pass
  os.close(lock.fd)
  if remove_if_empty and lock.created_dir:
    _remove_if_empty(job)


def held(job_log_dir: epath.PathLike) -> bool:
  """Whether this process holds the job directory's lock."""
  return _real(job_log_dir) in _HELD


def holder(job_log_dir: epath.PathLike) -> dict[str, Any] | None:
  """Who holds (or last held) the lock file, if there is one."""
  path = lock_path(_real(job_log_dir))
  if not os.path.exists(path):
    return None
  fd = os.open(path, os.O_RDONLY)
  try:
    return _read_holder(fd)
  finally:
    os.close(fd)


@atexit.register
def _release_all() -> None:
  for job in list(_HELD):
    _HELD[job].count = 1
    release(job)


# -- Checks -----------------------------------------------------------------
def check_sources(job_log_dir: epath.PathLike, source_dirs: Sequence[str]
                  ) -> None:
  """Refuses a job directory that is, is inside, or contains a warm-start
  source run.

  Args:
    job_log_dir: this job's directory.
    source_dirs: the sources' checkpoint folders (`<source>/checkpoints`).
  """
  job = _real(job_log_dir)
  for ckpt_dir in source_dirs:
    if '<' in ckpt_dir:  # warm_start.UNSET: reported by warm_start.validate.
      continue
    source = _real(checkpoints.checkpoint_dir(ckpt_dir).parent)
    if _within(job, source) or _within(source, job):
      where = ('is' if job == source else
               'is inside' if _within(job, source) else 'contains')
      raise ValueError(
          f'job_log_dir {job} {where} the warm-start source run {source}: '
          'the job would resume the source\'s state and its checkpoint '
          'clean-up (save_max_to_keep) would delete the source\'s '
          'checkpoints. Use a new --job_log_dir outside the source run.')


def _other_name(job: epath.Path) -> str:
  """How to name the experiment that wrote a job directory."""
  identity = job / IDENTITY_NAME
  if identity.exists():
    try:
      return json.loads(identity.read_text())['experiment']
    except (ValueError, KeyError, TypeError):
      pass
  params = job / 'model_params.txt'
  if params.exists():
    names = re.findall(r"^name : '([^']*)'$", params.read_text(), re.M)
    if names:
      return f'task {names[-1]!r}'
  return 'another experiment'


def check_experiment(job_log_dir: epath.PathLike,
                     ckpt: checkpoints.Checkpoint,
                     shapes: dict[str, tuple[int, ...]], this: str) -> None:
  """Refuses a job directory whose checkpoint holds another model.

  Args:
    job_log_dir: the job directory.
    ckpt: its newest (intact) checkpoint.
    shapes: {'params/...': shape} of this experiment's model.
    this: how to name this experiment.

  Raises:
    ValueError: one line naming both experiments and the first difference.
  """
  # Parameters only: other collections are not the model's identity.
  stored = {k: v for k, v in checkpoints.variables(ckpt).items()
            if k.startswith('params/')}
  shapes = {k: v for k, v in shapes.items() if k.startswith('params/')}
  diff = None
  for name in sorted(set(shapes) | set(stored)):
    if name not in stored:
      diff = f'it has no {name!r} (shape {tuple(shapes[name])} here)'
    elif name not in shapes:
      diff = (f'it has {name!r} (shape {stored[name][0]}), which this '
              'experiment does not')
    elif stored[name][0] != tuple(shapes[name]):
      diff = (f'{name!r} has shape {stored[name][0]} there, '
              f'{tuple(shapes[name])} here')
    if diff:
      break
  if diff is None:
    return
  job = epath.Path(job_log_dir)
  raise ValueError(
      f'job_log_dir {job} holds checkpoints of another experiment: '
      f'{_other_name(job)} (step {ckpt.step}), not {this}; {diff}. Use '
      'another --job_log_dir.')


def _write_identity(job: epath.Path, this: str, task_name: str) -> None:
  identity = job / IDENTITY_NAME
  if not identity.exists():
    job.mkdir(parents=True, exist_ok=True)
    identity.write_text(json.dumps({'experiment': this, 'task': task_name}))


def _done(job: epath.Path, num_train_steps: int) -> None:
  found = checkpoints.steps(job / 'checkpoints')
  if found and found[-1] >= num_train_steps:
    message = (f'{job}: already at step {found[-1]} of {num_train_steps}, '
               'nothing to train (raise the recipe\'s steps= argument to '
               'train further).')
    logging.info('%s', message)
    raise NothingToTrain(message)


def prepare(job_log_dir: epath.PathLike, *, task_p: Any,
            shapes_fn: Any, this: str, level: str = 'checksum'
            ) -> checkpoints.Checkpoint | None:
  """All job-directory checks; see the module docstring.

  Args:
    job_log_dir: --job_log_dir.
    task_p: the task config (train.num_train_steps, warm-start rules).
    shapes_fn: () -> {'params/...': shape} of this experiment's model
      (called only when the directory holds checkpoints).
    this: how to name this experiment in messages.
    level: checkpoint verification level (`integrity.LEVELS`).

  Returns:
    The checkpoint the run resumes from (None: it starts from scratch or a
    warm start; on processes other than 0 always None).

  Raises:
    ValueError: see the module docstring.
    NothingToTrain: (exit 0) the run is already at its last step.
  """
  from vit22b_pax.runtime import warm_start  # pylint: disable=g-import-not-at-top
  integrity.check_level(level)
  job = epath.Path(job_log_dir)
  check_sources(job, warm_start.source_dirs(task_p))
  resumed = None
  if jax.process_index() == 0:
    acquire(job)
    try:
      resumed = _check_own(job, task_p, shapes_fn, this, level)
    except BaseException:
      release(job, remove_if_empty=True)
      raise
  if jax.process_count() > 1:
    from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
    multihost_utils.sync_global_devices(f'vit22b:jobdir:{job}')
    if jax.process_index() != 0:
      _done(job, task_p.train.num_train_steps)
  return resumed


def _check_own(job: epath.Path, task_p: Any, shapes_fn: Any, this: str,
               level: str) -> checkpoints.Checkpoint | None:
  ckpt_dir = job / 'checkpoints'
  found = checkpoints.list_checkpoints(ckpt_dir)
  intact = None
  if found:
    intact, damaged = integrity.newest_intact(ckpt_dir, level)
    reference = intact
    if reference is None:
      for verdict in damaged:
        try:
          checkpoints.variables(verdict.ckpt)
          reference = verdict.ckpt
          break
        except ValueError:
          continue
    if reference is not None:
      check_experiment(job, reference, shapes_fn(), this)
    if intact is None:
      raise ValueError(
          f'Every checkpoint in {ckpt_dir} is damaged, nothing to resume '
          'from: ' + ' | '.join(f'{v.ckpt.path}: {v.describe(1)}'
                                for v in damaged) +
          '. Move them away to start from scratch, or use another '
          '--job_log_dir.')
    for verdict in damaged:
      moved = integrity.quarantine(verdict.ckpt)
      logging.warning('Checkpoint %s is damaged (%s); moved to %s.',
                      verdict.ckpt.path, verdict.describe(), moved)
    if damaged:
      logging.warning('Resuming from step %d (%s), the newest intact '
                      'checkpoint.', intact.step, intact.path)
  _done(job, task_p.train.num_train_steps)
  _write_identity(job, this, task_p.name)
  return intact
