"""GenotypeVAE: shapes, masking, determinism, persistence, and that it learns."""

import io
import pickle

import joblib
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _sklearn_checks import DATA_LAYER_FAILURES, bin_to_genotypes
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import genosynth
from genosynth import GenotypeVAE
from genosynth.data._genotypes import as_genotypes
from genosynth.datasets import simulate_case_control
from genosynth.generative.vae._vae_modules import (
    Conv3,
    Down,
    GenotypeAutoencoder,
    Up,
    _ShiftedProducts,
)

TINY = dict(compression=4, latent_channels=2, hidden_channels=16, base_channels=8, n_blocks=1)


@pytest.fixture(scope="module")
def panel():
    """An LD-rich msprime panel: 600 individuals x 61 adjacent variants (odd length)."""
    ds = simulate_case_control(
        600, n_variants=300, n_causal=5, random_state=3, demography="constant", n_chromosomes=1
    )
    G, _ = as_genotypes(ds)
    return G[:, 100:161]


@pytest.fixture(scope="module")
def fitted(panel):
    # float32 pinned: the bfloat16 tests compare against it ("auto" is bfloat16
    # on machines with native bfloat16).
    vae = GenotypeVAE(**TINY, max_iter=40, batch_size=32, random_state=0)
    return vae.set_params(training_dtype="float32", decoding_dtype="float32").fit(panel[:500])


def _majority_accuracy(train, test):
    mode = np.array([np.bincount(c[c >= 0], minlength=3).argmax() for c in train.T])
    observed = test >= 0
    return float((test == mode)[observed].mean())


def test_learns_well_above_the_majority_genotype_baseline(fitted, panel):
    held_out = panel[500:]
    baseline = _majority_accuracy(panel[:500], held_out)
    accuracy = fitted.score(held_out)
    assert accuracy >= 0.93
    assert accuracy > baseline + 0.1
    assert fitted.validation_scores_[fitted.best_iteration_ - 1] == max(fitted.validation_scores_)


@pytest.mark.parametrize("n_variants", [1, 7, 61])
def test_shapes_and_dtypes_for_odd_panel_lengths(n_variants):
    rng = np.random.default_rng(0)
    G = rng.integers(0, 3, (40, n_variants)).astype(np.int8)
    vae = GenotypeVAE(**TINY, max_iter=2, random_state=0).fit(G)
    Z = vae.transform(G)
    n_latent = TINY["latent_channels"] * -(-n_variants // 4)
    assert Z.shape == (40, n_latent) and Z.dtype == np.float32
    assert vae.n_latent_ == n_latent
    back = vae.inverse_transform(Z)
    assert back.shape == (40, n_variants) and back.dtype == np.int8
    assert set(np.unique(back)) <= {0, 1, 2}
    proba = vae.decode_proba(Z)
    assert proba.shape == (40, n_variants, 3)
    np.testing.assert_allclose(proba.sum(-1), 1.0, atol=1e-5)
    assert list(vae.get_feature_names_out()[:2]) == ["vae0", "vae1"]
    assert vae.latent_mean_.shape == vae.latent_std_.shape == (n_latent,)


def test_missing_calls_are_masked_not_imputed(panel):
    G = panel[:200].copy()
    rng = np.random.default_rng(1)
    holes = rng.random(G.shape) < 0.2
    G[holes] = -1
    # float32 decoding: the score decodes in float32, and the check below is exact
    vae = GenotypeVAE(**TINY, max_iter=3, decoding_dtype="float32", random_state=0).fit(G)
    assert np.isfinite(vae.loss_curve_).all()
    # A missing call contributes nothing to the encoder input: whatever its SNP's
    # table holds, the first stage's output is the same.
    g = torch.as_tensor(np.array([[-1, 0, -1, 2]]), dtype=torch.long)
    module = GenotypeVAE(**TINY, max_iter=1, random_state=0).fit(G[:, :4]).module_
    before = module.embed_genotypes(g)
    with torch.no_grad():
        module.embed[[0, 2]] += 1.0
        assert torch.equal(module.embed_genotypes(g), before)
        module.embed[1] += 1.0
        assert not torch.equal(module.embed_genotypes(g), before)
    # The score ignores missing calls: it equals accuracy over observed calls only.
    full = vae.inverse_transform(vae.transform(G))
    observed = G >= 0
    assert vae.score(G) == pytest.approx(float((full == G)[observed].mean()), abs=1e-12)


@pytest.mark.parametrize("length", [1, 2, 9])
def test_conv3_shifted_products_are_the_convolution(length):
    """Training's shifted products and inference's concatenation give the same
    outputs and gradients; the shifted products' backward passes gradcheck."""
    torch.manual_seed(0)
    conv = Conv3(6, 5)
    x = torch.randn(4, length, 6, requires_grad=True)
    y = conv(x)  # grad enabled: the shifted products
    grad = torch.randn_like(y)
    y.backward(grad)
    grads = [t.grad.clone() for t in (x, conv.linear.weight, conv.linear.bias)]
    with torch.no_grad():
        torch.testing.assert_close(conv(x), y)  # inference: the concatenation
    padded = F.pad(x, (0, 0, 1, 1))
    reference = conv.linear(torch.cat([padded[:, :-2], x, padded[:, 2:]], -1))
    torch.testing.assert_close(reference, y)
    for t in (x, conv.linear.weight, conv.linear.bias):
        t.grad = None
    reference.backward(grad)
    for mine, theirs in zip(grads, (x.grad, conv.linear.weight.grad, conv.linear.bias.grad)):
        torch.testing.assert_close(mine, theirs)
    double = [
        torch.randn(s, dtype=torch.float64, requires_grad=True)
        for s in ((2, length, 3), (2, 9), (2,))
    ]
    assert torch.autograd.gradcheck(_ShiftedProducts.apply, tuple(double))


@pytest.mark.parametrize("snp_tables", [True, False])
def test_first_stage_is_the_one_hot_product(snp_tables):
    """Both layouts compute the one-hot product their docstring states, -1 adding nothing."""
    torch.manual_seed(0)
    module = GenotypeAutoencoder(16, 4, 2, 16, 8, 1, stride=4, snp_tables=snp_tables)
    g = torch.as_tensor(np.random.default_rng(0).integers(-1, 3, (5, 16)), dtype=torch.long)
    onehot = torch.stack([g == 0, g == 1, g == 2], -1).float()
    per_snp = torch.einsum("blk,lkc->blc", onehot, module.embed)
    if snp_tables:  # summed over each group of 4 SNPs, then the bias and SiLU
        expected = F.silu(per_snp.reshape(5, 4, 4, -1).sum(2) + module.embed_bias)
        torch.testing.assert_close(module.embed_genotypes(g), expected)
    else:  # the per-SNP embedding itself, bit for bit
        assert torch.equal(module.embed_genotypes(g), per_snp)


@pytest.mark.parametrize(
    ("compression", "stride", "strides"), [(16, 4, [4, 4]), (8, 4, [4, 2]), (4, 16, [4])]
)
def test_stride_sets_the_stages_and_reconstructs(panel, compression, stride, strides):
    kw = dict(TINY, compression=compression, max_iter=40, batch_size=32, random_state=0)
    vae = GenotypeVAE(**kw, stride=stride, training_dtype="float32").fit(panel[:500])
    # the SNP tables are the first stage, strided convolutions the others
    downs = [m for m in vae.module_.down if isinstance(m, Down)]
    ups = [m for m in vae.module_.up if isinstance(m, Up)]
    assert vae.module_.group == strides[0]
    assert [m.stride for m in downs] == strides[1:] and [m.stride for m in ups] == strides[:0:-1]
    n_positions = vae.module_config_["n_positions"]
    assert vae.transform(panel).shape[1] == TINY["latent_channels"] * n_positions // compression
    assert vae.score(panel[500:]) >= 0.93


def test_model_configs_written_before_the_tables_rebuild_the_old_layout(panel):
    """A module config without `stride` and `snp_tables` holds the layout of files
    written before them: a per-SNP embedding and stride-2 stages."""
    torch.manual_seed(0)
    legacy = GenotypeAutoencoder(64, 4, 2, 16, 8, 1)  # the constructor's defaults
    vae = GenotypeVAE(**TINY, max_iter=1, random_state=0).fit(panel[:100])
    vae.module_config_ = {
        k: v for k, v in vae.module_config_.items() if k not in ("stride", "snp_tables")
    }
    vae._rebuild(legacy.state_dict())
    assert not vae.module_.snp_tables and vae.module_.embed.shape == (64, 3, 8)
    assert [m.stride for m in vae.module_.down if isinstance(m, Down)] == [2, 2]
    g = torch.as_tensor(np.pad(panel[:5], ((0, 0), (0, 3)), constant_values=-1), dtype=torch.long)
    torch.testing.assert_close(vae.module_.encode(g)[0], legacy.eval().encode(g)[0])


def test_model_files_written_before_stride_existed_load_with_stride_two(panel):
    """A file without the parameter gets the value its network was fitted with."""
    from genosynth.persistence import _export_estimator, _import_estimator

    vae = GenotypeVAE(**TINY, stride=2, max_iter=1, random_state=0).fit(panel[:100])
    spec, arrays = _export_estimator(vae, "vae")
    del spec["params"]["stride"]
    old = _import_estimator(spec, arrays)
    assert old.stride == 2 and GenotypeVAE().stride != 2
    np.testing.assert_array_equal(old.transform(panel), vae.transform(panel))


def test_same_random_state_same_model_and_outputs(panel):
    a = GenotypeVAE(**TINY, max_iter=3, random_state=7).fit(panel[:200])
    b = GenotypeVAE(**TINY, max_iter=3, random_state=7).fit(panel[:200])
    c = GenotypeVAE(**TINY, max_iter=3, random_state=8).fit(panel[:200])
    for (k, va), vb in zip(a.module_.state_dict().items(), b.module_.state_dict().values()):
        assert torch.equal(va, vb), k
    np.testing.assert_array_equal(a.transform(panel), b.transform(panel))
    assert not np.array_equal(a.transform(panel), c.transform(panel))
    # transform is deterministic (eval mode, posterior mean)
    np.testing.assert_array_equal(a.transform(panel), a.transform(panel))
    # the global torch RNG is left alone
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    GenotypeVAE(**TINY, max_iter=1, random_state=0).fit(panel[:50])
    assert torch.equal(torch.rand(3), expected)


def test_sampling_decoder_is_seeded(fitted, panel):
    Z = fitted.transform(panel[:50])
    a = fitted.inverse_transform(Z, decode="sample", random_state=0)
    b = fitted.inverse_transform(Z, decode="sample", random_state=0)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, fitted.inverse_transform(Z, decode="sample", random_state=1))
    with pytest.raises(ValueError, match="decode"):
        fitted.inverse_transform(Z, decode="mode")


def test_bfloat16_decoding_matches_float32_closely(fitted, panel):
    """bfloat16 products move the probabilities a little and almost no argmax call."""
    Z = fitted.transform(panel)
    low = pickle.loads(pickle.dumps(fitted)).set_params(decoding_dtype="bfloat16")
    P32, P16 = fitted.decode_proba(Z), low.decode_proba(Z)
    assert P16.dtype == P32.dtype == np.float32
    assert not np.array_equal(P16, P32)  # the setting takes effect
    assert np.abs(P16 - P32).max() < 0.05
    np.testing.assert_allclose(P16.sum(-1), 1.0, atol=1e-5)
    G32, G16 = fitted.inverse_transform(Z), low.inverse_transform(Z)
    assert G16.dtype == np.int8
    assert (G16 == G32).mean() > 0.995
    np.testing.assert_array_equal(G16, low.inverse_transform(Z))


def test_bfloat16_training_reconstructs_as_well_and_is_seeded(fitted, panel):
    """bfloat16 products in training: float32 weights, the float32 fit's held-out
    accuracy within half a point, and a repeatable fit."""
    kwargs = dict(**TINY, batch_size=32, training_dtype="bfloat16")
    low = GenotypeVAE(**kwargs, max_iter=40, random_state=0).fit(panel[:500])
    assert all(p.dtype == torch.float32 for p in low.module_.parameters())
    assert low.loss_curve_ != fitted.loss_curve_  # the setting takes effect
    assert low.score(panel[500:]) > fitted.score(panel[500:]) - 0.005
    again = [GenotypeVAE(**kwargs, max_iter=2, random_state=1).fit(panel[:500]) for _ in range(2)]
    np.testing.assert_array_equal(again[0].transform(panel), again[1].transform(panel))


def test_pickle_joblib_and_safetensors_round_trips(fitted, panel, tmp_path):
    Z = fitted.transform(panel)
    for back in (
        pickle.loads(pickle.dumps(fitted)),
        genosynth.load(genosynth.save(fitted, tmp_path / "vae.genosynth")),
    ):
        np.testing.assert_array_equal(back.transform(panel), Z)
        np.testing.assert_array_equal(back.inverse_transform(Z), fitted.inverse_transform(Z))
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).transform(panel), Z)
    # pickles carry CPU tensors, whatever device the model was fitted on
    state = fitted.__getstate__()["module_"]
    assert all(t.device.type == "cpu" for t in state.values())


def test_phenotype_head_and_warm_start(panel):
    y = (panel[:200, 0] > 0).astype(int)
    vae = GenotypeVAE(**TINY, label_weight=1.0, max_iter=2, random_state=0).fit(panel[:200], y)
    assert vae.classes_.tolist() == [0, 1]
    assert vae.module_.label_head is not None
    with pytest.raises(ValueError, match="label_weight"):
        GenotypeVAE(**TINY, label_weight=1.0, max_iter=1).fit(panel[:50])
    trait = np.random.default_rng(0).normal(size=50)
    with pytest.raises(ValueError, match="y is continuous"):
        GenotypeVAE(**TINY, label_weight=1.0, max_iter=1).fit(panel[:50], trait)
    warm = GenotypeVAE(**TINY, max_iter=2, warm_start=True, random_state=0).fit(panel[:200])
    warm.fit(panel[:200])
    assert warm.n_iter_ == 4 and len(warm.loss_curve_) == 4
    # A warm fit keeps the head it has: new classes and a new head are refused.
    with pytest.raises(ValueError, match=r"labels \[2\] were not seen in the first fit"):
        vae.set_params(warm_start=True).fit(panel[:200], 2 * y)
    with pytest.raises(ValueError, match="cannot add one"):
        warm.set_params(label_weight=1.0).fit(panel[:200], y)
    # A fresh fit without labels drops the old head's classes.
    vae.set_params(warm_start=False, label_weight=0.0, max_iter=1).fit(panel[:200])
    assert not hasattr(vae, "classes_") and vae.module_.label_head is None


def test_decoder_noise_with_a_one_row_batch(panel):
    # 19 individuals -> 17 training rows -> batches of 16 and 1; a single row has no spread.
    vae = GenotypeVAE(**TINY, decoder_noise=0.3, batch_size=16, max_iter=2, random_state=0)
    vae.fit(panel[:19])
    assert np.all(np.isfinite(vae.loss_curve_))


def test_decoder_noise_makes_decoding_robust_to_latent_error(fitted, panel):
    # A generator's latents miss the encodings by a little; a decoder trained on
    # noised latents should change fewer calls under such an error.
    robust = GenotypeVAE(**TINY, decoder_noise=0.5, max_iter=40, batch_size=32, random_state=0)
    robust.fit(panel[:500])
    held_out = panel[500:]
    assert robust.score(held_out) >= 0.9  # still reconstructs

    def changed_calls(vae):
        Z = vae.transform(held_out)
        error = 0.5 * Z.std(0) * np.random.default_rng(0).standard_normal(Z.shape)
        clean = vae.inverse_transform(Z)
        return float((vae.inverse_transform(Z + error.astype(np.float32)) != clean).mean())

    plain, noised = changed_calls(fitted), changed_calls(robust)
    assert noised < 0.5 * plain, (noised, plain)


def test_auto_epochs_follow_a_fixed_example_budget():
    # 40 epochs for small cohorts; beyond, ~216,000 training examples (30 epochs at
    # 7,200 training rows: the 10,000 x 1,024 fit-time budget of benchmarks/README.md).
    vae = GenotypeVAE()
    assert [vae._epoch_budget(n) for n in (100, 5400, 7200, 27_000, 10**6)] == [40, 40, 30, 8, 1]
    assert GenotypeVAE(max_iter=5)._epoch_budget(10**6) == 5


def test_clear_errors_on_bad_input(fitted, panel):
    with pytest.raises(ValueError, match="outside|0, 1, 2"):
        GenotypeVAE(**TINY, max_iter=1).fit(np.full((10, 5), 3))
    with pytest.raises(ValueError, match="features"):
        fitted.transform(panel[:, :10])
    with pytest.raises(ValueError, match="latents must have shape"):
        fitted.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        fitted.inverse_transform(np.full((2, fitted.n_latent_), np.nan))
    with pytest.raises(ValueError, match="compression"):
        GenotypeVAE(compression=3).fit(panel)
    assert clone(fitted).get_params()["compression"] == 4


class BinnedVAE(GenotypeVAE):
    """Test double: sklearn's continuous check data binned into genotypes."""

    def fit(self, X, y=None):
        return super().fit(bin_to_genotypes(X), y)

    def transform(self, X):
        return super().transform(bin_to_genotypes(X))

    def score(self, X, y=None):
        return super().score(bin_to_genotypes(X), y)


@parametrize_with_checks(
    [BinnedVAE(**TINY, max_iter=2, device="cpu", random_state=0)],
    expected_failed_checks=lambda est: DATA_LAYER_FAILURES,
)
def test_sklearn_common_checks(estimator, check):
    check(estimator)


def test_unknown_device_is_a_value_error(panel):
    with pytest.raises(ValueError, match="device='gpu' is not a torch device"):
        GenotypeVAE(**TINY, max_iter=1, device="gpu").fit(panel[:20])
