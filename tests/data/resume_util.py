# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0

"""Shared check: an input restored from its state resumes bit-identically."""

import tempfile

from etils import epath
import numpy as np
from paxml import checkpoints


def assert_resumes(test, make_input, n: int, m: int,
                   differ_key: str = 'image'):
  """Reads n batches, saves the state, reads m more; a fresh input restored
  from that state must yield exactly those m batches (every key, every bit).

  The state goes through paxml's `BaseInputCheckpointHandler` (what
  `enable_input_checkpointing=True` uses: `BaseInput.save` / `restore`, i.e.
  `get_state` / `set_state`), after a `peek_padded()` as paxml's trainer
  does before its first step.

  Args:
    test: the TestCase (for assertions).
    make_input: () -> a new input with the same configuration.
    n: batches read before saving.
    m: batches compared after restoring.
    differ_key: a batch key whose first batch differs from batch n.
  """
  first = make_input()
  for _ in range(n):
    first.get_next_padded()
  first.peek_padded()  # The saved state must be the one before the peek.
  handler = checkpoints.BaseInputCheckpointHandler()
  with tempfile.TemporaryDirectory() as tmp:
    handler.save(epath.Path(tmp), first)
    expected = [first.get_next_padded() for _ in range(m)]
    restored = make_input()
    handler.restore(epath.Path(tmp), restored)
  got = [restored.get_next_padded() for _ in range(m)]
  for i, (want, have) in enumerate(zip(expected, got)):
    test.assertEqual(sorted(want.keys()), sorted(have.keys()))
    for key in want.keys():
      np.testing.assert_array_equal(
          have[key], want[key], err_msg=f'batch {n + i}, key {key!r}')
  # The restored input must not simply replay the start of the stream.
  fresh = make_input().get_next()
  test.assertFalse(np.array_equal(fresh[differ_key], expected[0][differ_key]))
