"""Test-wide setup: 8 fake CPU devices for every test process.

XLA reads the flag once, when the backend starts, so it is set here, before any
test module imports jax. Single-device tests simply run on device 0.
"""

import os

_FLAG = '--xla_force_host_platform_device_count=8'
if _FLAG not in os.environ.get('XLA_FLAGS', ''):
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') + ' ' + _FLAG).strip()
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('JAX_PLATFORMS', 'cpu')

# Test files that run whole training jobs (`paxml.main` in subprocesses, or
# in-process jobs of a minute or more). They are marked `slow`: `make test`
# (CI) runs them, `make test-fast` skips them while developing.
SLOW_FILES = frozenset({
    'tests/experiments/collective_test.py',
    'tests/experiments/dense_test.py',
    'tests/experiments/multihost_test.py',
    'tests/experiments/reliability_test.py',
    'tests/experiments/resume_inputs_test.py',
    'tests/experiments/video_test.py',
    'tests/experiments/workflows_test.py',
    'tests/fiddle_configs/bf16_test.py',
    'tests/fiddle_configs/public_test.py',
    'tests/runtime/fewshot_program_test.py',
    'tests/runtime/guard_test.py',
    'tests/runtime/mfu_test.py',
    'tests/tools/fewshot_test.py',
    'tests/tools/new_user_journey_test.py',
})


def pytest_collection_modifyitems(config, items):
  import pytest  # pylint: disable=g-import-not-at-top
  root = str(config.rootpath)
  gone = [p for p in SLOW_FILES if not os.path.exists(os.path.join(root, p))]
  if gone:
    raise pytest.UsageError(
        f'tests/conftest.py SLOW_FILES names files that do not exist: {gone}')
  for item in items:
    if os.path.relpath(str(item.path), root) in SLOW_FILES:
      item.add_marker(pytest.mark.slow)
