# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Checkpoint integrity: a manifest written after each save, checked on restore.

orbax commits a checkpoint atomically (a temporary folder renamed when
complete), so an interrupted save never looks committed. What it cannot see
is damage after the commit (a deleted or truncated file, a full disk, a
partial copy); tensorstore then reads a missing chunk file as zeros without
an error. So:

  * after each save, `write_manifest` records the size and CRC-32 of every
    file of the committed checkpoint in `checkpoint_N/manifest.vit22b.json`
    (written through a temporary name and renamed: the manifest is either
    complete or absent; it holds no time or host name, so equal checkpoints
    have equal manifests, byte for byte);
  * before a checkpoint is restored (resume, warm start, `runtime/restore.py`)
    `verify` compares the files with the manifest: a missing file, a size or
    checksum difference, or an unreadable manifest makes it damaged, each
    problem naming the file;
  * a checkpoint without a manifest (written before manifests existed, or a
    kill between commit and manifest) gets a structural check instead: paxml
    metadata readable, every array of orbax's array record has its `.zarray`
    and every chunk file of its chunk grid, and (level 'checksum') every
    array decodes;
  * `newest_intact` walks the checkpoints newest first and stops at the first
    intact one; `quarantine` moves a damaged one of the run's own directory to
    `<job_log_dir>/damaged_checkpoints/` (kept for inspection, no longer seen
    by paxml, so the run falls back to the previous one and saves anew).

Levels: 'checksum' (sizes and CRC-32 of every byte: reads the checkpoint
once), 'size' (sizes only: no data read), 'off' (no check). Everything goes
through `etils.epath`.
"""

from __future__ import annotations

from concurrent import futures
import dataclasses
import json
import os
import zlib

from absl import logging
from etils import epath

from vit22b_pax.runtime import checkpoints

MANIFEST = 'manifest.vit22b.json'
LEVELS = ('checksum', 'size', 'off')
QUARANTINE_DIR = 'damaged_checkpoints'
_BLOCK = 8 << 20
_THREADS = min(8, os.cpu_count() or 1)
_FLAX_FILE = 'checkpoint'  # FLAX (pmap) checkpoints: the msgpack state.
_FORMAT = 1


def check_level(level: str) -> str:
  if level not in LEVELS:
    raise ValueError(f'Unknown checkpoint verification {level!r}; expected '
                     f'one of {list(LEVELS)}.')
  return level


def _files(root: epath.Path) -> list[epath.Path]:
  """Every file under `root`, recursively (epath only: works on gs://)."""
  out, todo = [], [root]
  while todo:
    for path in todo.pop().iterdir():
      if path.is_dir():
        todo.append(path)
      elif path.name != MANIFEST and not path.name.startswith(MANIFEST):
        out.append(path)
  return sorted(out)


def _relative(path: epath.Path, root: epath.Path) -> str:
  return str(path)[len(str(root)):].lstrip('/')


def crc32(path: epath.Path) -> int:
  value = 0
  with path.open('rb') as f:
    while block := f.read(_BLOCK):
      value = zlib.crc32(block, value)
  return value


def _parallel(fn, items):
  """fn over items on a few threads (zlib and file reads release the GIL)."""
  items = list(items)
  if len(items) < 2:
    return [fn(x) for x in items]
  with futures.ThreadPoolExecutor(min(_THREADS, len(items))) as pool:
    return list(pool.map(fn, items))


def manifest_path(ckpt: checkpoints.Checkpoint) -> epath.Path:
  return ckpt.path / MANIFEST


def write_manifest(ckpt: checkpoints.Checkpoint, level: str = 'checksum'
                   ) -> epath.Path:
  """Records size (and CRC-32 unless level 'size') of every file of `ckpt`.

  Returns:
    The manifest path.
  """
  check_level(level)

  def entry(path):
    out = {'size': path.stat().length}
    if level == 'checksum':
      out['crc32'] = crc32(path)
    return _relative(path, ckpt.path), out

  files = dict(_parallel(entry, _files(ckpt.path)))
  # Only what the checkpoint's bytes determine: no wall-clock time and no
  # host name, so a resumed run's checkpoint directory equals an
  # uninterrupted run's file for file (the file's mtime says when).
  manifest = {'format': _FORMAT, 'step': ckpt.step, 'files': files}
  target = manifest_path(ckpt)
  tmp = ckpt.path / f'{MANIFEST}.tmp'
  tmp.write_text(json.dumps(manifest, indent=0, sort_keys=True))
  tmp.rename(target)
  return target


@dataclasses.dataclass
class Verdict:
  """The result of verifying one checkpoint.

  Attributes:
    ckpt: the checkpoint.
    problems: one line per problem, each naming the file.
    manifest: whether a manifest was checked (else the structural check).
  """

  ckpt: checkpoints.Checkpoint
  problems: list[str]
  manifest: bool

  @property
  def ok(self) -> bool:
    return not self.problems

  def describe(self, limit: int = 3) -> str:
    shown = '; '.join(self.problems[:limit])
    more = len(self.problems) - limit
    return shown + (f'; and {more} more' if more > 0 else '')


def _check_manifest(ckpt: checkpoints.Checkpoint, level: str) -> list[str]:
  path = manifest_path(ckpt)
  try:
    files = json.loads(path.read_text())['files']
    if not isinstance(files, dict):
      raise TypeError('files is not a mapping')
  except (ValueError, KeyError, TypeError, OSError) as e:
    return [f'unreadable manifest {str(path)} ({type(e).__name__}: {e})']

  def check(item):
    name, entry = item
    file = ckpt.path / name
    if not file.exists():
      return f'missing file {str(file)}'
    size = file.stat().length
    if size != entry['size']:
      return (f'{str(file)} has {size} bytes, the manifest says '
              f'{entry["size"]}')
    if level == 'checksum' and 'crc32' in entry and crc32(
        file) != entry['crc32']:
      return f'{str(file)}: CRC-32 differs from the manifest'
    return None

  return [p for p in _parallel(check, sorted(files.items())) if p]


def _check_flax(path: epath.Path, level: str) -> list[str]:
  """A FLAX (pmap) checkpoint: one msgpack file holding the whole state."""
  if path.stat().length == 0:
    return [f'empty state file {str(path)}']
  if level == 'checksum':
    from flax import serialization  # pylint: disable=g-import-not-at-top
    try:
      serialization.msgpack_restore(path.read_bytes())
    except Exception as e:  # pylint: disable=broad-except
      return [f'unreadable state file {str(path)} ({type(e).__name__}: {e})']
  return []


def _check_structure(ckpt: checkpoints.Checkpoint, level: str) -> list[str]:
  """What can be checked without a manifest."""
  if not any(True for _ in ckpt.path.iterdir()):
    return [f'empty checkpoint folder {str(ckpt.path)}']
  problems = []
  try:
    checkpoints.metadata(ckpt)['train_state_metadata']
  except (ValueError, KeyError, TypeError) as e:
    problems.append(f'paxml metadata {checkpoints.metadata_path(ckpt)}: '
                    f'{type(e).__name__}: {e}')
  aggregate = ckpt.state_dir / _FLAX_FILE
  if aggregate.exists() and not (ckpt.state_dir / '_sharding').exists():
    return problems + _check_flax(aggregate, level)
  try:
    arrays = checkpoints.stored_arrays(ckpt)
  except ValueError as e:
    return problems + [str(e)]
  if not arrays:
    problems.append(f'no arrays in {str(ckpt.state_dir)}')
  for array in arrays:
    try:
      missing = checkpoints.missing_chunks(ckpt, array)
    except ValueError as e:
      problems.append(str(e))
      continue
    problems.extend(f'missing chunk file {str(m)}' for m in missing)
    if not missing and level == 'checksum':
      try:
        checkpoints.read_array(ckpt, array)
      except ValueError as e:
        problems.append(str(e))
  return problems


def verify(ckpt: checkpoints.Checkpoint, level: str = 'checksum') -> Verdict:
  """Checks one committed checkpoint (see the module docstring)."""
  check_level(level)
  if level == 'off':
    return Verdict(ckpt, [], manifest_path(ckpt).exists())
  if not ckpt.path.is_dir():
    return Verdict(ckpt, [f'{str(ckpt.path)} is not a folder'], False)
  if manifest_path(ckpt).exists():
    return Verdict(ckpt, _check_manifest(ckpt, level), True)
  return Verdict(ckpt, _check_structure(ckpt, level), False)


def newest_intact(job_log_dir: epath.PathLike, level: str = 'checksum',
                  max_step: int | None = None
                  ) -> tuple[checkpoints.Checkpoint | None, list[Verdict]]:
  """The newest checkpoint that verifies, and the damaged newer ones.

  Args:
    job_log_dir: the run (or its `checkpoints` folder).
    level: verification level.
    max_step: consider only checkpoints at or before this step.

  Returns:
    (newest intact checkpoint or None, verdicts of the damaged checkpoints
    newer than it, newest first).
  """
  damaged = []
  for ckpt in reversed(checkpoints.list_checkpoints(job_log_dir)):
    if max_step is not None and ckpt.step > max_step:
      continue
    verdict = verify(ckpt, level)
    if verdict.ok:
      if not verdict.manifest and level != 'off':
        logging.warning('Checkpoint %s has no integrity manifest (written '
                        'without one, or the run stopped right after the '
                        'save); its structure was checked instead.',
                        ckpt.path)
      return ckpt, damaged
    damaged.append(verdict)
  return None, damaged


def select(job_log_dir: epath.PathLike | None, step: int | None = None,
           level: str = 'checksum'
           ) -> tuple[checkpoints.Checkpoint, list[Verdict]]:
  """The checkpoint to read from a run: `step`, or the newest intact one.

  Nothing is moved: this is for reading another run's checkpoints (warm
  starts, restore).

  Returns:
    (checkpoint, verdicts of the damaged newer checkpoints skipped).

  Raises:
    ValueError: no checkpoint, no such step, `step` is damaged, or every
      checkpoint is damaged; naming the paths and the problems.
  """
  if step is not None or level == 'off':
    ckpt = checkpoints.resolve(job_log_dir, step)
    verdict = verify(ckpt, level)
    if not verdict.ok:
      raise ValueError(f'Checkpoint {str(ckpt.path)} is damaged: '
                       f'{verdict.describe()}.')
    return ckpt, []
  checkpoints.resolve(job_log_dir)  # Raises if there is none at all.
  ckpt, damaged = newest_intact(job_log_dir, level)
  if ckpt is None:
    raise ValueError(
        f'Every checkpoint in {str(checkpoints.checkpoint_dir(job_log_dir))} '
        'is damaged: ' + ' | '.join(
            f'{str(v.ckpt.path)}: {v.describe(1)}' for v in damaged))
  for verdict in damaged:
    logging.warning('Skipping damaged checkpoint %s (%s); using step %d.',
                    verdict.ckpt.path, verdict.describe(), ckpt.step)
  return ckpt, damaged


def quarantine(ckpt: checkpoints.Checkpoint) -> epath.Path:
  """Moves a damaged checkpoint of the run's own directory aside.

  `<job>/checkpoints/checkpoint_N` -> `<job>/damaged_checkpoints/checkpoint_N`
  (with a numeric suffix if that name is taken). paxml no longer lists it,
  so the run resumes from the previous checkpoint and can save step N anew.

  Returns:
    The new location.
  """
  folder = ckpt.path.parent.parent / QUARANTINE_DIR
  folder.mkdir(parents=True, exist_ok=True)
  target = folder / ckpt.path.name
  n = 1
  while target.exists():
    target = folder / f'{ckpt.path.name}.{n}'
    n += 1
  ckpt.path.rename(target)
  return target
