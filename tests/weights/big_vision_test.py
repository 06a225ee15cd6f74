# Copyright 2026 The vit22b_pax Authors.
# SPDX-License-Identifier: Apache-2.0
"""big_vision .npz import: logits equal big_vision's forward in numpy."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import ml_dtypes
import numpy as np

from tests.weights import import_util as iu
from tests.weights import reference as ref
from vit22b_pax.weights import big_vision
from vit22b_pax.weights import layout

K = 5  # classes


def _params(seed, pooling, **kwargs):
  return ref.big_vision_params(
      np.random.default_rng(seed), width=iu.WIDTH, depth=iu.DEPTH,
      mlp=iu.MLP, heads=iu.HEADS, patch=iu.PATCH, grid=2, classes=K,
      pooling=pooling, **kwargs)


def _save(params, prefix=''):
  path = os.path.join(tempfile.mkdtemp(), 'vit.npz')
  np.savez(path, **{prefix + k: v for k, v in params.items()})
  return path


class BigVisionImportTest(parameterized.TestCase):

  @parameterized.named_parameters(
      # Class token ('tok'), linen names, unrolled, at the stored 2x2 grid.
      ('cls', 'tok', {}, '', 16, ()),
      # MAP head, scanned blocks, inside a SigLIP-style two-tower file,
      # resampled 2x2 -> 3x3.
      ('map_scan_siglip', 'map', {'scanned': True}, 'params/img/', 24, ()),
      # Global average pooling, AugReg's pre-linen names, written for a
      # scanned (nn.scan) encoder.
      ('gap_prelinen_scan', 'gap', {'prelinen': True}, '', 24, ('--scan',)),
      # The original ViT files: cls posemb inside Transformer/posembed_input.
      ('cls_old_posemb', 'tok', {'old_posemb': True, 'prelinen': True}, '',
       24, ()),
  )
  def test_logits_match_big_vision(self, pooling, kwargs, prefix, size,
                                   extra):
    params = _params(0, pooling, **kwargs)
    path = _save(params, prefix)
    if prefix:  # The text tower and temperature of a two-tower file.
      np.savez(path, **{prefix + k: v for k, v in params.items()},
               **{'params/txt/embedding': np.ones((7, 3), np.float32),
                  'params/t': np.ones((1,), np.float32)})
    src = path + (':img' if prefix else '')
    rc, out, err, job = iu.run_import('--format', 'big_vision', '--src', src,
                                      '--image_size', str(size), *extra)
    self.assertEqual(rc, 0, err)
    want_pool = {'tok': 'cls', 'map': 'map', 'gap': 'gap'}[pooling]
    self.assertIn(f'pooling {want_pool}', out)
    self.assertIn('tanh GELU', out)
    if size != 16:
      self.assertIn('resampled 2x2 -> 3x3 (zoom)', out)
    images = iu.random_images(1, size)
    want = ref.big_vision_forward(params, images, depth=iu.DEPTH,
                                  pooling=pooling,
                                  prelinen=kwargs.get('prelinen', False))
    iu.assert_logits_close(self, iu.imported_logits(job, images), want)

  def test_bfloat16_npz_as_big_vision_saves_it(self):
    # numpy writes bfloat16 as 2-byte void; big_vision's recover_dtype
    # reads it back. The import must see the same values.
    params = _params(3, 'gap')
    stored = {k: v.astype(ml_dtypes.bfloat16).view('V2') if k ==
              'embedding/kernel' else v for k, v in params.items()}
    got = big_vision.read(_save(stored), layout.Dims(
        iu.WIDTH, iu.DEPTH, iu.MLP, iu.HEADS, iu.PATCH), 'test')
    np.testing.assert_array_equal(
        got.variables['network/patch_w'],
        params['embedding/kernel'].astype(ml_dtypes.bfloat16).astype(
            np.float32))


class BigVisionErrorsTest(absltest.TestCase):

  def _read(self, params, src_suffix=''):
    return big_vision.read(_save(params) + src_suffix, layout.Dims(
        iu.WIDTH, iu.DEPTH, iu.MLP, iu.HEADS, iu.PATCH), 'ViT-test')

  def test_missing_tensor_is_named_with_its_shape(self):
    params = _params(0, 'tok')
    del params['Transformer/encoderblock_1/MlpBlock_0/Dense_0/bias']
    with self.assertRaisesRegex(
        ValueError, r"no tensor 'Transformer/encoderblock_1/MlpBlock_0/"
        r"Dense_0/bias' \(expected shape \(64,\) for ViT-test"):
      self._read(params)

  def test_misshapen_tensor_names_both_shapes(self):
    params = _params(0, 'tok')
    params['Transformer/encoderblock_0/MultiHeadDotProductAttention_0/'
           'query/kernel'] = np.zeros((32, 4, 8), np.float32)
    with self.assertRaisesRegex(
        ValueError, r"tensor 'Transformer/encoderblock_0/"
        r"MultiHeadDotProductAttention_0/query/kernel' has shape \(32, 4, 8\) "
        r'but ViT-test .* needs \(32, 2, 16\)'):
      self._read(params)

  def test_wrong_depth_and_unsupported_tensors_are_reported(self):
    params = _params(0, 'tok')
    params['pre_logits/kernel'] = np.zeros((32, 32), np.float32)
    with self.assertRaisesRegex(ValueError, r"no place for: 'pre_logits/"
                                r"kernel' \(32, 32\)"):
      self._read(params)
    deeper = dict(_params(0, 'tok'))
    for k, v in list(deeper.items()):
      if k.startswith('Transformer/encoderblock_1/'):
        deeper[k.replace('_1/', '_2/')] = v
    with self.assertRaisesRegex(ValueError, 'encoderblock_2'):
      self._read(deeper)

  def test_two_tower_file_needs_its_image_tower(self):
    path = _save(_params(0, 'map'), 'params/img/')
    with self.assertRaisesRegex(ValueError,
                                r"under \['img'\]: pass --src .*:img"):
      big_vision.read(path, layout.Dims(iu.WIDTH, iu.DEPTH, iu.MLP,
                                        iu.HEADS, iu.PATCH), 'ViT-test')

  def test_not_a_checkpoint(self):
    path = os.path.join(tempfile.mkdtemp(), 'x.npz')
    with open(path, 'w') as f:
      f.write('hello')
    with self.assertRaisesRegex(ValueError, 'is not a numpy .npz'):
      big_vision.read(path, layout.Dims(32, 2, 64, 2, 8), 'ViT-test')
    with self.assertRaisesRegex(ValueError, 'No big_vision checkpoint'):
      big_vision.read(path + '.missing', layout.Dims(32, 2, 64, 2, 8), 'x')

  def test_pickled_object_arrays_are_refused(self):
    params = _params(0, 'gap')
    params['head/bias'] = np.array([{'a': 1}], dtype=object)
    path = os.path.join(tempfile.mkdtemp(), 'p.npz')
    np.savez(path, **params)
    with self.assertRaisesRegex(ValueError, r"'head/bias' .* object array"):
      big_vision.read(path, layout.Dims(32, 2, 64, 2, 8), 'ViT-test')


if __name__ == '__main__':
  absltest.main()
