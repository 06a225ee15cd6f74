# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""tools/dryrun: the real train step compiled on 8 fake devices vs the plan."""

import json

import pytest

from vit22b_pax.tools import dryrun
from vit22b_pax.tools import dryrun_report

# Smoke model, scanned and rematerialised as the paper's, on (1, 4, 2).
SMOKE = ("fiddle_configs.pretrain.pretrain(size='smoke', mesh=(1, 4, 2), "
         "model={'scan': True, 'remat_policy': 'save_nothing'})")
BREAK = ('task.model.network_tpl.block_tpl.weight_split_dims_mapping.dnh='
         'None')


def _report(overrides=(), min_bytes=1024):
  step = dryrun.build(dryrun.resolve(SMOKE, overrides))
  return dryrun_report.analyse(step, min_bytes=min_bytes)


@pytest.fixture(scope='module')
def report():
  return _report()


def test_params_and_optimizer_bytes_follow_the_plan(report):
  m = report['memory_bytes']
  plan = report['plan']['memory_bytes']
  for ours, theirs in (('params', 'params'), ('opt_momentum', 'opt_momentum'),
                       ('opt_second_moment', 'opt_second_moment')):
    assert m[ours] == pytest.approx(plan[theirs], rel=0.03), ours
  # Arguments are the train state and the batch (+ the key): XLA's buffer
  # assignment agrees with the sum of the per-leaf shards.
  state = m['params'] + m['opt_momentum'] + m['opt_second_moment'] + m[
      'other_state']
  assert m['xla_arguments'] == pytest.approx(state + m['batch'], rel=0.02,
                                             abs=64)


def test_nothing_replicated_against_the_plan(report):
  assert report['replicated_against_plan'] == []


def test_scanned_step_structure(report):
  assert report['scanned']
  assert sorted(t for t in report['loop_trip_counts'].values()) == [2, 2]
  # Remat save_nothing: the layer stack saves each block input, split over
  # the batch (data) and model dim (mdl): [L, B/4, T, D/2].
  assert report['saved_activation_buffers'] == ['f32[2,4,4,16]']
  per_block = report['collective_bytes_per_block']
  assert per_block['mdl'] > 0 and per_block['data'] > 0
  # Matmul FLOPs of the compiled step are those the plan executes (the
  # counts differ by the non-matmul work only).
  fl = report['flops']
  assert fl['hlo_matmul'] == pytest.approx(fl['plan_executed'], rel=0.1)
  items = {r['item'] for r in report['reconcile']}
  assert {'parameters', 'optimizer momentum', 'optimizer second moment',
          'mdl-axis bytes per block', 'data-axis bytes per block'} <= items
  for row in report['reconcile']:
    if row['within'] is False:
      assert row['note'], row


def test_the_image_batch_is_never_gathered(report):
  # paxml splits the input batch over every mesh axis; the encoder's bhwc
  # annotation keeps the patch embedding (and its kernel's gradient) on the
  # batch split. Without it XLA gathered the global batch to every device
  # (18 GiB per device in the paper step).
  batch = report['global_batch']
  for c in report['largest_collectives']:
    dims = c['shape'].split('[')[1].rstrip(']').split(',')
    assert not (c['kind'] == 'all-gather' and len(dims) >= 4 and
                int(dims[0]) == batch), c


def test_one_collective_per_fused_weight_under_tensor_parallelism(report):
  # The fused block's weight matmuls stay whole when 'mdl' splits them: a
  # matmul per weight segment gathers the input and reduces the output once
  # per segment (paper step: 16 all-gathers / 13 all-reduces per block over
  # mdl instead of 5 / 9, 45.7 instead of 29.0 GiB per device).
  ops = {c['kind']: c['ops'] for c in report['collectives']
         if c['in_layer'] and c['axes'] == ['mdl']}
  assert ops.get('all-gather', 0) <= 3, ops
  assert ops.get('all-reduce', 0) <= 9, ops


def test_a_block_weight_left_replicated_is_reported():
  bad = _report([BREAK])['replicated_against_plan']
  paths = {b['path'] for b in bad}
  # The parameter and its optimizer slots, all over both axes it should be
  # split on.
  assert 'mdl_vars/params/network/blocks/blocks/w_in' in paths or any(
      p.endswith('/w_in') and p.startswith('mdl_vars') for p in paths), paths
  assert any('/m/params/' in p and p.endswith('w_in') for p in paths), paths
  for b in bad:
    assert b['path'].endswith('w_in'), b
    assert set(b['replicated_over']) <= {'data', 'mdl'}
    assert b['replicated_over']


def test_cli_writes_json_with_its_fields(tmp_path, capsys):
  out = tmp_path / 'r.json'
  assert dryrun.main(['--exp', SMOKE, '--json', str(out)]) == 0
  text = capsys.readouterr().out
  assert 'Plan vs compiled' in text and 'Collectives' in text
  r = json.loads(out.read_text())
  for key in ('mesh', 'devices', 'global_batch', 'memory_bytes', 'flops',
              'collectives', 'collective_bytes_per_block',
              'replicated_against_plan', 'plan', 'reconcile', 'fits',
              'command', 'timing_s'):
    assert key in r, key
  assert r['devices'] == 8 and r['mesh'] == {'replica': 1, 'data': 4,
                                             'mdl': 2}


@pytest.mark.parametrize('argv, needle', [
    (['--exp', 'pretrain.NoSuchExperiment'], 'NoSuchExperiment'),
    (['--exp', SMOKE, '--mesh', '1,4,4', '--devices', '8'], '--mesh 1,4,4'),
    (['--exp', SMOKE, '--mesh', '1,4,4'], 'needs 16 devices'),
    (['--exp', SMOKE, '--mesh', '1,4'], "--mesh '1,4'"),
    (['--exp', SMOKE, '--batch', '6'], 'global batch 6'),
    (['--exp', SMOKE, '--fdl', 'set:task.no_such_field=1'], 'no_such_field'),
])
def test_bad_input_is_one_line_naming_the_value(argv, needle, capsys):
  assert dryrun.main(argv) == 2
  # (paxml's registry may print 'Registered experiment' lines before.)
  err = [l for l in capsys.readouterr().err.strip().splitlines()
         if not l.startswith('Registered experiment')]
  assert len(err) == 1, err
  assert err[0].startswith('dryrun: error:') and needle in err[0], err
