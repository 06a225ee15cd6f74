# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The dense comparison table: job commands, summary, resume."""

from unittest import mock

from absl.testing import absltest

from fiddle_configs import dense
from vit22b_pax.tools import dense_table
from vit22b_pax.tools import runs


def _record(task, backbone, seed, **metrics):
  return dict(task=task, backbone=backbone, seed=seed, ok=True,
              command='python x', wall_seconds=100.0 + seed,
              cpu_seconds=50.0, loadavg_start=[2.0 + seed, 1, 1],
              loadavg_end=[3.5, 1, 1], metrics=metrics)


class DenseTableTest(absltest.TestCase):

  def test_job_call(self):
    self.assertEqual(
        dense_table.job_call(dense.depth, 'tiny', 'random', 1, '/p', 'dpt'),
        "fiddle_configs.dense.depth(size='tiny',backbone='random',seed=1,"
        "decoder='dpt')")
    self.assertIn("pretrain_dir='/p'", dense_table.job_call(
        dense.segmentation, 'tiny', 'trained', 0, '/p', 'linear'))

  def test_summary_mean_and_spread(self):
    records = [_record('segmentation', 'pretrained', 0, miou=0.2,
                       pixel_accuracy=0.8),
               _record('segmentation', 'pretrained', 1, miou=0.3,
                       pixel_accuracy=0.9),
               _record('segmentation', 'random', 0, miou=0.1,
                       pixel_accuracy=0.7)]
    text = dense_table.summarize(records)
    self.assertIn('**segmentation**, linear decoder', text)
    self.assertIn('| pretrained | 2 | 0.2500 ± 0.1000 | 0.8500 ± 0.1000 '
                  '| 100 | 50 | 2.0-3.5 |', text)
    self.assertIn('| random | 1 | 0.1000 ± 0.0000 | 0.7000 ± 0.0000 | 100 '
                  '| 50 | 2.0-3.5 |', text)
    self.assertNotIn('depth', text)

  def test_summary_without_cpu_seconds(self):
    # Records rebuilt from a job's logs have no CPU seconds or load average.
    records = [_record('depth', 'random', 0, delta1=0.9, abs_rel=0.1,
                       rmse=0.5, log10=0.05, delta2=0.98, delta3=0.99),
               dict(_record('depth', 'random', 1, delta1=0.8, abs_rel=0.2,
                            rmse=0.6, log10=0.06, delta2=0.97, delta3=0.98),
                    cpu_seconds=None, loadavg_start=None, loadavg_end=None)]
    text = dense_table.summarize(records)
    self.assertIn('| random | 2 | 0.8500 ± 0.1000 | 0.1500 ± 0.1000 ', text)
    self.assertIn('| 100 | 50 (1 of 2) | 2.0-3.5 |', text)
    self.assertIn('| 101 | - | - |', dense_table.summarize(records[1:]))

  def test_done_jobs_are_not_rerun(self):
    call = dense_table.job_call(dense.segmentation, 'tiny', 'random', 0,
                                '/p', 'linear')
    done = [dict(_record('segmentation', 'random', 0, miou=0.1,
                         pixel_accuracy=0.5), command=f'python -m x {call}')]
    records = dense_table.run_grid('/p', '/tmp/unused', [0],
                                   tasks=['segmentation'],
                                   backbones=['random'], done=done)
    self.assertEqual(records, done)

  def test_records_saved_after_each_job(self):
    # A failing stand-in for the job subprocess: the grid goes on, and
    # on_record sees the records so far after every job that ran.
    calls = []

    def fake_run_job(call, job):
      calls.append(call)
      return runs.JobResult(job, 1, 2.0, ['py', '-m', 'x', call],
                            'ValueError: boom')

    saved = []
    with mock.patch.object(runs, 'run_job', fake_run_job):
      records = dense_table.run_grid(
          '/p', '/tmp/unused', [0, 1], tasks=['depth'], backbones=['random'],
          on_record=lambda r: saved.append(len(r)))
    self.assertLen(calls, 2)
    self.assertEqual(saved, [1, 2])
    self.assertEqual([r['ok'] for r in records], [False, False])
    self.assertEqual(records[0]['error'], 'ValueError: boom')
    self.assertNotIn('metrics', records[0])

  def test_unknown_task(self):
    with self.assertRaisesRegex(ValueError, r"Unknown tasks \['pose'\]"):
      dense_table.run_grid('/p', '/tmp/unused', [0], tasks=['pose'])


if __name__ == '__main__':
  absltest.main()
