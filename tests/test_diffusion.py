"""ConditionalLatentDiffusion: schedules, conditioning, guidance, determinism, persistence."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

import genosynth
from genosynth import ConditionalLatentDiffusion
from genosynth.generative.diffusion._schedules import (
    SAMPLERS,
    add_noise,
    cosine_alphas_cumprod,
    ddim_sample,
    dpm_solver_2m_sample,
    importance_timesteps,
    min_snr_velocity_weights,
    sampling_timesteps,
    scaled_linear_alphas_cumprod,
    velocity,
)

# Tiny networks, and the sampling and precision settings of the mechanics
# these tests pin down (float32 throughout, guidance on every step) rather than
# the defaults, which test_defaults_* cover.
SMALL = dict(
    hidden_size=64,
    n_blocks=2,
    n_steps=20,
    sampler="ddim",
    guidance_scale=2.0,
    guidance_interval=(0.0, 1.0),
    sampling_dtype="float32",
    training_dtype="float32",
)


@pytest.fixture(scope="module")
def blobs():
    """Two labelled Gaussian blobs in 6 dimensions, well separated on the first axis."""
    rng = np.random.default_rng(0)
    y = rng.choice([2, 1], size=1200, p=[0.3, 0.7])
    Z = rng.normal(size=(1200, 6)) * 0.5
    Z[:, 0] += np.where(y == 2, 4.0, -4.0)
    Z[:, 1] = 10.0 + 3.0 * Z[:, 1]  # scale and offset: standardisation must undo them
    return Z, y


@pytest.fixture(scope="module")
def fitted(blobs):
    Z, y = blobs
    return ConditionalLatentDiffusion(**SMALL, max_iter=150, random_state=0).fit(Z, y)


def test_schedules_are_monotone_and_span_signal_to_noise():
    for ac in (cosine_alphas_cumprod(1000), scaled_linear_alphas_cumprod(1000)):
        assert ac.shape == (1000,)
        assert torch.all(ac[1:] < ac[:-1])
        assert ac[0] > 0.99 and ac[-1] < 0.01
    assert sampling_timesteps(1000, 1) == [999]
    steps = sampling_timesteps(1000, 50)
    assert steps[0] == 999 and len(steps) == 50 and steps == sorted(steps, reverse=True)
    with pytest.raises(ValueError, match="n_steps"):
        sampling_timesteps(10, 11)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_sampler_with_the_exact_noise_recovers_the_clean_sample(sampler):
    """If the noise predictor is exact, both ODE samplers return x0 from x_T."""
    ac = cosine_alphas_cumprod(1000).float()
    x0 = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    noise = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    x_T = add_noise(x0, noise, ac[999].expand(5))

    def oracle(x, t):  # the velocity of x relative to x0 at step t
        eps = (x - ac[t].sqrt() * x0) / (1 - ac[t]).sqrt()
        return velocity(x0, eps, ac[t].expand(len(x)))

    out = SAMPLERS[sampler](oracle, x_T, ac, sampling_timesteps(1000, 10))
    torch.testing.assert_close(out, x0, atol=1e-4, rtol=1e-4)


def test_second_order_sampler_is_closer_to_the_exact_flow_in_few_steps():
    """Gaussian data N(3, 0.5^2) with its exact velocity: the probability-flow
    ODE maps noise to the data distribution. At 8 and 15 steps DPM-Solver++(2M)
    lands much nearer a 1,000-step solution than DDIM, whose samples are too
    narrow (measured: std 0.41 / 0.45 for DDIM, 0.46 / 0.50 for DPM++, 0.50 exact)."""
    ac = cosine_alphas_cumprod(1000).float()

    def oracle(x, t):
        a = ac[t]
        x0 = 3 + a.sqrt() * 0.25 / (a * 0.25 + 1 - a) * (x - a.sqrt() * 3)
        return (a.sqrt() * x - x0) / (1 - a).sqrt()

    noise = torch.randn(4000, 1, generator=torch.Generator().manual_seed(0))
    exact = ddim_sample(oracle, noise, ac, sampling_timesteps(1000, 1000))
    assert abs(exact.std().item() - 0.5) < 0.02
    for n_steps in (8, 15):
        steps = sampling_timesteps(1000, n_steps)
        err_ddim = (ddim_sample(oracle, noise, ac, steps) - exact).abs().max().item()
        err_dpm = (dpm_solver_2m_sample(oracle, noise, ac, steps) - exact).abs().max().item()
        assert err_dpm < 0.5 * err_ddim
    steps = sampling_timesteps(1000, 15)
    spread = exact.std().item()
    assert abs(dpm_solver_2m_sample(oracle, noise, ac, steps).std().item() - spread) < 0.01
    assert ddim_sample(oracle, noise, ac, steps).std().item() < spread - 0.03


def test_conditional_samples_follow_their_label(fitted, blobs):
    Z, y = blobs
    Z_case, y_case = fitted.sample(400, y=2, random_state=0)
    Z_ctrl, _ = fitted.sample(400, y=1, random_state=1)
    assert y_case.tolist() == [2] * 400
    # the label decides the side of the first axis for nearly every sample
    assert (Z_case[:, 0] > 0).mean() > 0.95 and (Z_ctrl[:, 0] < 0).mean() > 0.95
    # means and spreads on the original scale (standardisation undone)
    assert abs(Z_case[:, 0].mean() - Z[y == 2, 0].mean()) < 0.5
    assert abs(Z_ctrl[:, 1].mean() - 10.0) < 0.6
    assert 0.6 < Z_ctrl[:, 1].std() / Z[y == 1, 1].std() < 1.4


def test_label_requests_none_scalar_array(fitted):
    _, y_mix = fitted.sample(2000, random_state=0)
    assert abs(np.mean(y_mix == 2) - fitted.class_prior_[1]) < 0.04
    Z, y_arr = fitted.sample(y=[1, 2, 2], random_state=0)
    assert Z.shape == (3, 6) and Z.dtype == np.float32
    assert y_arr.tolist() == [1, 2, 2]
    with pytest.raises(ValueError, match="not seen in fit"):
        fitted.sample(2, y=7)
    with pytest.raises(ValueError, match="n_samples"):
        fitted.sample(0)


def test_guidance_sharpens_the_conditional(fitted):
    """The label steers samples to their class; more guidance never leaks more across."""
    weak, _ = fitted.sample(500, y=2, guidance_scale=0.0, random_state=0)
    plain, _ = fitted.sample(500, y=2, guidance_scale=1.0, random_state=0)
    strong, _ = fitted.sample(500, y=2, guidance_scale=4.0, random_state=0)
    # scale 0 ignores the label: roughly the training mix of sides
    assert 0.1 < (weak[:, 0] > 0).mean() < 0.6
    assert plain[:, 0].mean() > weak[:, 0].mean() + 2.0
    assert (strong[:, 0] > 0).mean() >= (plain[:, 0] > 0).mean() > 0.95


@pytest.mark.parametrize("continuous", [False, True], ids=["classes", "continuous"])
@pytest.mark.parametrize("name", ["mlp", "conv", "conv-patch"])
def test_guided_pass_equals_the_guidance_formula(name, continuous):
    # The guided pass shares the input embedding and mixes before the output
    # projection; it must equal u + s (c - u) computed from two full passes.
    from genosynth.generative.diffusion._denoiser import DENOISERS

    torch.manual_seed(0)
    # conv-patch: 4 positions of 4 channels in tokens of 3 positions (one padded)
    extra = {"conv": {"channels": 4}, "conv-patch": {"channels": 4, "patch": 3}}.get(name, {})
    n_classes = None if continuous else 2
    net = DENOISERS[name.split("-")[0]](16, n_classes, 8, 2, **extra).eval()
    for p in net.parameters():  # the zero-initialised output layers would hide mistakes
        torch.nn.init.normal_(p, std=0.3)
    x = torch.randn(5, 16)
    # the conditioning table: two classes and the null token, or two values and NaN
    keys = torch.tensor([-1.0, 0.7, torch.nan]) if continuous else torch.arange(3)
    table = net.condition(torch.full((3,), 17), keys)
    lab, null = torch.tensor([0, 1, 1, 0, 1]), torch.full((5,), 2)
    with torch.no_grad():
        c = net(x, None, None, cond=table, index=lab)
        u = net(x, None, None, cond=table, index=null)
        guided = net.guided(x, table, lab, null, 2.5)
    assert c.shape == x.shape
    assert torch.abs(c - u).max() > 0.01  # the label matters
    torch.testing.assert_close(guided, u + 2.5 * (c - u), rtol=1e-5, atol=1e-5)


def test_same_seed_same_samples_and_global_rng_untouched(blobs, fitted):
    a = fitted.sample(50, random_state=3)
    b = fitted.sample(50, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], fitted.sample(50, random_state=4)[0])
    Z, y = blobs
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    m1 = ConditionalLatentDiffusion(**SMALL, max_iter=2, random_state=1).fit(Z, y)
    assert torch.equal(torch.rand(2), expected)
    m2 = ConditionalLatentDiffusion(**SMALL, max_iter=2, random_state=1).fit(Z, y)
    for v1, v2 in zip(m1.module_.state_dict().values(), m2.module_.state_dict().values()):
        assert torch.equal(v1, v2)


@pytest.mark.parametrize("model", ["fitted", "fitted_conv"])
def test_bfloat16_sampling_matches_float32_closely_and_is_seeded(model, request):
    """bfloat16 products change the trajectory a little, not the distribution or the labels."""
    fitted = request.getfixturevalue(model)
    low = pickle.loads(pickle.dumps(fitted)).set_params(sampling_dtype="bfloat16")
    for scale in (1.0, 2.0):
        Z32, y32 = fitted.sample(400, guidance_scale=scale, random_state=6)
        Z16, y16 = low.sample(400, guidance_scale=scale, random_state=6)
        np.testing.assert_array_equal(y32, y16)
        assert Z16.dtype == np.float32
        assert not np.array_equal(Z16, Z32)  # the setting takes effect
        assert np.median(np.abs(Z16 - Z32)) < 0.05  # per-coordinate, on scales of 0.5-3
        # the case/control split on the first axis survives in every row
        np.testing.assert_array_equal(Z16[:, 0] > 0, Z32[:, 0] > 0)
    np.testing.assert_array_equal(
        low.sample(30, random_state=1)[0], low.sample(30, random_state=1)[0]
    )
    # sampling ran a bfloat16 copy: the fitted network itself stays float32
    assert all(p.dtype == torch.float32 for p in low.module_.parameters())


def test_bfloat16_training_learns_as_well_and_is_seeded(blobs, fitted):
    """bfloat16 products in training reach the float32 fit's held-out loss, the
    weights stay float32, the samples keep the label split, and fits repeat."""
    Z, y = blobs
    low = ConditionalLatentDiffusion(
        **{**SMALL, "training_dtype": "bfloat16"}, max_iter=150, random_state=0
    ).fit(Z, y)
    assert all(p.dtype == torch.float32 for p in low.module_.parameters())
    assert low.loss_curve_ != fitted.loss_curve_  # the setting takes effect
    best32, best16 = max(fitted.validation_scores_), max(low.validation_scores_)
    assert best16 > best32 - 0.1 * abs(best32)  # held-out loss within 10%
    Z_new, y_new = low.sample(400, random_state=3)
    assert np.all((Z_new[:, 0] > 0) == (y_new == 2))
    again = [
        ConditionalLatentDiffusion(
            **{**SMALL, "training_dtype": "bfloat16"}, max_iter=3, random_state=1
        ).fit(Z, y)
        for _ in range(2)
    ]
    assert again[0].loss_curve_ == again[1].loss_curve_


def test_dpm_solver_tracks_the_many_step_flow_of_a_fitted_model(fitted):
    """Same starting noise: 8 DPM-Solver++(2M) steps land nearer the 200-step
    DDIM trajectory than 8 DDIM steps do, and the sampler is seeded."""
    dpm = pickle.loads(pickle.dumps(fitted)).set_params(sampler="dpm++2m")
    reference, y_ref = fitted.sample(300, n_steps=200, random_state=2)
    ddim, _ = fitted.sample(300, n_steps=8, random_state=2)
    second, y_dpm = dpm.sample(300, n_steps=8, random_state=2)
    np.testing.assert_array_equal(y_ref, y_dpm)
    err_ddim = np.median(np.abs(ddim - reference))
    err_dpm = np.median(np.abs(second - reference))
    assert err_dpm < 0.5 * err_ddim, (err_dpm, err_ddim)  # measured 0.017 vs 0.063
    np.testing.assert_array_equal(second, dpm.sample(300, n_steps=8, random_state=2)[0])


def test_guidance_interval_guides_only_its_steps(fitted):
    """Outside the interval the plain conditional model runs: an interval that
    holds no sampling step equals guidance 1, the full interval equals the
    default, and a partial one differs from both."""
    copy = pickle.loads(pickle.dumps(fitted))
    kw = dict(n_samples=200, y=2, guidance_scale=4.0, n_steps=10, random_state=5)
    full, _ = fitted.sample(**kw)
    plain, _ = fitted.sample(**{**kw, "guidance_scale": 1.0})
    # sampling_timesteps(1000, 10) never reaches t >= 999.5
    none, _ = copy.set_params(guidance_interval=(0.9995, 1.0)).sample(**kw)
    np.testing.assert_array_equal(none, plain)
    np.testing.assert_array_equal(copy.set_params(guidance_interval=[0, 1]).sample(**kw)[0], full)
    late, _ = copy.set_params(guidance_interval=(0.5, 1.0)).sample(**kw)
    assert not np.array_equal(late, full) and not np.array_equal(late, plain)
    assert (late[:, 0] > 0).mean() > 0.95  # the label still decides the side


def test_min_snr_weighting_changes_training_and_is_seeded(blobs):
    Z, y = blobs
    kw = dict(**SMALL, max_iter=3, random_state=0)
    a = ConditionalLatentDiffusion(snr_gamma=2.0, **kw).fit(Z, y)
    b = ConditionalLatentDiffusion(snr_gamma=2.0, **kw).fit(Z, y)
    plain = ConditionalLatentDiffusion(snr_gamma=None, **kw).fit(Z, y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    # the weights are below 1 everywhere, so the weighted training loss is smaller
    assert all(w < p for w, p in zip(a.loss_curve_, plain.loss_curve_))
    # "auto": plain loss for the MLP, gamma 2 for the conv network
    auto = ConditionalLatentDiffusion(snr_gamma="auto", **kw).fit(Z, y)
    assert auto.loss_curve_ == plain.loss_curve_
    conv = dict(kw, denoiser="conv", latent_channels=3, max_iter=2)
    curves = [
        ConditionalLatentDiffusion(snr_gamma=g, **conv).fit(Z, y).loss_curve_
        for g in ("auto", 2.0, None)
    ]
    assert curves[0] == curves[1] != curves[2]


def test_importance_timesteps_estimate_the_weighted_loss_without_bias():
    weights = min_snr_velocity_weights(cosine_alphas_cumprod(1000), 2.0)
    loss = torch.linspace(0.2, 3.0, 1000) ** 2  # any per-timestep loss
    gen = torch.Generator().manual_seed(0)
    draws = [importance_timesteps(weights, 256, gen) for _ in range(200)]
    estimates = torch.stack([(c * loss[t]).mean() for t, c in draws])
    # the mean of many mini-batch estimates is the uniform-timestep weighted loss
    expected = float((weights * loss).mean())
    assert float(estimates.mean()) == pytest.approx(expected, rel=0.01)
    # with less spread than uniform draws weighted by w(t)
    uniform = torch.stack(
        [(weights[t] * loss[t]).mean() for t in torch.randint(0, 1000, (200, 256), generator=gen)]
    )
    assert estimates.std() < 0.5 * uniform.std()
    # every timestep keeps a share of the draws, the nearly weightless ends included
    t = torch.cat([t for t, _ in draws])
    assert int(t.min()) < 20 and int(t.max()) > 980
    assert float((t > 900).float().mean()) > 0.01


def test_validation_checkpoint_and_history(fitted):
    assert fitted.n_iter_ == len(fitted.loss_curve_) == len(fitted.validation_scores_)
    best = fitted.validation_scores_[fitted.best_iteration_ - 1]
    assert best == max(fitted.validation_scores_)
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]


def test_save_load_and_pickle_sample_identically(fitted, tmp_path):
    """The label embedding (null token included) is restored: same seed, same output."""
    loaded = genosynth.load(genosynth.save(fitted, tmp_path / "d.genosynth"))
    for back in (loaded, pickle.loads(pickle.dumps(fitted))):
        for y in (None, 2, [1, 2]):
            a = fitted.sample(25, y=y, guidance_scale=3.0, random_state=2)
            b = back.sample(25, y=y, guidance_scale=3.0, random_state=2)
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])
    # the sampler settings travel with the file
    tuned = pickle.loads(pickle.dumps(fitted))
    tuned.set_params(sampler="dpm++2m", guidance_interval=(0.5, 1.0))
    back = genosynth.load(genosynth.save(tuned, tmp_path / "tuned.genosynth"))
    assert back.get_params()["sampler"] == "dpm++2m"
    np.testing.assert_array_equal(
        tuned.sample(25, random_state=4)[0], back.sample(25, random_state=4)[0]
    )


def test_module_config_without_architecture_is_an_mlp(fitted):
    """Model files written before ``denoiser="conv"`` existed have no "architecture" entry."""
    old = pickle.loads(pickle.dumps(fitted))
    del old.module_config_["architecture"]
    old._rebuild(fitted.module_.state_dict())
    assert type(old.module_) is type(fitted.module_)
    a = fitted.sample(30, guidance_scale=2.0, random_state=4)[0]
    np.testing.assert_array_equal(old.sample(30, guidance_scale=2.0, random_state=4)[0], a)


def test_models_without_label_type_hold_class_labels(fitted):
    """Model files written before continuous labels existed have no ``label_type_``."""
    old = pickle.loads(pickle.dumps(fitted))
    del old.label_type_
    for y in (None, 2, [1, 2]):
        a = fitted.sample(20, y=y, random_state=6)
        b = old.sample(20, y=y, random_state=6)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


@pytest.fixture(scope="module")
def fitted_conv(blobs):
    Z, y = blobs
    return ConditionalLatentDiffusion(
        denoiser="conv", latent_channels=2, patch_size=2, **SMALL, max_iter=150, random_state=0
    ).fit(Z, y)


def test_conv_denoiser_conditions_and_round_trips(fitted_conv, blobs, tmp_path):
    """6 features = 3 positions x 2 channels, read as 2 tokens of 2 positions (one padded)."""
    Z, y = blobs
    assert fitted_conv.module_.length == 3 and fitted_conv.module_config_["channels"] == 2
    assert fitted_conv.module_.n_tokens == 2 and fitted_conv.module_config_["patch"] == 2
    Z_case, _ = fitted_conv.sample(400, y=2, random_state=0)
    Z_ctrl, _ = fitted_conv.sample(400, y=1, random_state=1)
    assert (Z_case[:, 0] > 0).mean() > 0.95 and (Z_ctrl[:, 0] < 0).mean() > 0.95
    assert abs(Z_ctrl[:, 1].mean() - 10.0) < 0.6
    back = genosynth.load(genosynth.save(fitted_conv, tmp_path / "c.genosynth"))
    a = fitted_conv.sample(20, guidance_scale=2.0, random_state=3)
    b = back.sample(20, guidance_scale=2.0, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="latent_channels=4"):
        ConditionalLatentDiffusion(denoiser="conv", latent_channels=4, max_iter=1).fit(Z, y)


def test_clear_errors(blobs):
    Z, y = blobs
    with pytest.raises(ValueError, match=f"y has {len(Z) - 1} entries but the latents have"):
        ConditionalLatentDiffusion(max_iter=1).fit(Z, y[:-1])
    with pytest.raises(ValueError, match="class"):
        ConditionalLatentDiffusion(max_iter=1).fit(Z, np.zeros(len(Z)))
    with pytest.raises(ValueError, match="Input Z contains NaN"):
        bad = Z.copy()
        bad[0, 0] = np.nan
        ConditionalLatentDiffusion(max_iter=1).fit(bad, y)
    with pytest.raises(ValueError, match="beta_schedule"):
        ConditionalLatentDiffusion(beta_schedule="linear").fit(Z, y)
    for interval in [(0.6, 0.4), (0.0, 1.5), (0.5,), "late", (None, 1.0)]:
        with pytest.raises(ValueError, match="guidance_interval"):
            ConditionalLatentDiffusion(guidance_interval=interval, max_iter=1).fit(Z, y)
    with pytest.raises(ValueError, match="snr_gamma"):
        ConditionalLatentDiffusion(snr_gamma=0).fit(Z, y)
    with pytest.raises(ValueError, match="sampler"):
        ConditionalLatentDiffusion(sampler="euler").fit(Z, y)


@parametrize_with_checks(
    [ConditionalLatentDiffusion(**SMALL, max_iter=2, device="cpu", random_state=0)],
    expected_failed_checks=lambda est: {},
)
def test_sklearn_common_checks(estimator, check):
    check(estimator)


def test_defaults_pick_the_network_and_its_training_by_latent_shape(blobs, monkeypatch):
    """``"auto"``: the conv network (an example budget, 2e-3) on a latent of whole
    ``latent_channels`` positions, the MLP (400 epochs at 1e-3) on any other."""
    import genosynth.generative._torch_estimator as torch_estimator

    seen = []

    def one_epoch(module, loss_fn, tensors, **kw):
        seen.append((kw["max_iter"], kw["learning_rate_init"]))
        return real_train(module, loss_fn, tensors, **{**kw, "max_iter": 1})

    real_train = torch_estimator.train
    monkeypatch.setattr(torch_estimator, "train", one_epoch)
    Z, y = blobs
    wide = np.hstack([Z, Z + 0.1, Z[:, :4]])  # 16 features: 2 positions of 8 channels
    model = ConditionalLatentDiffusion(random_state=0)
    assert model.fit(wide, y).module_config_["architecture"] == "conv"
    assert model.fit(Z, y).module_config_["architecture"] == "mlp"  # 6 features
    assert seen == [(240, 2e-3), (400, 1e-3)]  # 1,080 rows: under the conv example budget
    # the conv budget: 160 epochs of 7,200 rows (10,000 individuals), at most 240
    model.module_config_ = {"architecture": "conv"}
    assert [model._epoch_budget(n) for n in (1_000, 7_200, 14_400)] == [240, 100, 50]
    model.module_config_ = {"architecture": "mlp"}
    assert model._epoch_budget(10**6) == 400
    explicit = ConditionalLatentDiffusion(max_iter=7, learning_rate_init=5e-4, random_state=0)
    explicit.fit(wide, y)
    assert seen[-1] == (7, 5e-4)
    with pytest.raises(ValueError, match="latent_channels=8"):
        ConditionalLatentDiffusion(denoiser="conv").fit(Z, y)


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_is_bfloat16_only_where_native(fitted, native, monkeypatch):
    import genosynth.generative._torch_utils as torch_utils

    monkeypatch.setattr(torch_utils, "native_bfloat16", lambda device: native)
    expected = "bfloat16" if native else "float32"
    assert torch_utils.resolve_dtype("cpu", "auto") == expected
    assert torch_utils.resolve_dtype("cpu", "float32") == "float32"
    with torch_utils.precision(torch.device("cpu"), "auto"):
        product = torch.ones(2, 2) @ torch.ones(2, 2)
    assert product.dtype == getattr(torch, expected)
    auto = pickle.loads(pickle.dumps(fitted)).set_params(sampling_dtype="auto")
    pinned = pickle.loads(pickle.dumps(fitted)).set_params(sampling_dtype=expected)
    np.testing.assert_array_equal(
        auto.sample(40, random_state=2)[0], pinned.sample(40, random_state=2)[0]
    )


@pytest.fixture(scope="module")
def trait_blobs():
    """Latents whose first axis follows a quantitative trait on an arbitrary scale."""
    rng = np.random.default_rng(1)
    trait = 50.0 + 8.0 * rng.normal(size=1500)  # standardisation must undo the scale
    Z = rng.normal(size=(1500, 6)) * 0.5
    Z[:, 0] += 2.0 * (trait - 50.0) / 8.0
    return Z, trait


@pytest.fixture(scope="module")
def fitted_trait(trait_blobs):
    Z, trait = trait_blobs
    return ConditionalLatentDiffusion(**SMALL, max_iter=100, random_state=0).fit(Z, trait)


def test_continuous_label_steers_samples_to_its_value(fitted_trait, trait_blobs):
    Z, trait = trait_blobs
    assert fitted_trait.label_type_ == "continuous"
    assert fitted_trait.module_config_["n_classes"] is None
    assert not hasattr(fitted_trait, "classes_")
    assert fitted_trait.label_quantiles_[[0, -1]].tolist() == [trait.min(), trait.max()]
    # Without guidance (s = 1) the samples follow the conditional of the data:
    # E[Z0 | trait] = 2 (trait - 50) / 8, i.e. -2, 0, +2 for these values.
    for value, expected in [(42.0, -2.0), (50.0, 0.0), (58.0, 2.0)]:
        Z_new, y_new = fitted_trait.sample(300, y=value, guidance_scale=1.0, random_state=0)
        assert y_new.tolist() == [value] * 300
        assert abs(Z_new[:, 0].mean() - expected) < 0.35, (value, Z_new[:, 0].mean())
        assert abs(Z_new[:, 1].mean()) < 0.15
    # Guidance above 1 pushes past the conditional mean, in the label's direction.
    strong, _ = fitted_trait.sample(300, y=58.0, guidance_scale=3.0, random_state=0)
    plain, _ = fitted_trait.sample(300, y=58.0, guidance_scale=1.0, random_state=0)
    assert strong[:, 0].mean() > plain[:, 0].mean() + 0.3


def test_continuous_label_requests(fitted_trait, trait_blobs):
    Z, trait = trait_blobs
    # y=None: labels from the training distribution, and latents that carry them
    Z_mix, y_mix = fitted_trait.sample(2000, guidance_scale=1.0, random_state=0)
    assert y_mix.dtype == np.float64
    assert abs(y_mix.mean() - trait.mean()) < 0.6 and abs(y_mix.std() / trait.std() - 1) < 0.06
    assert trait.min() <= y_mix.min() and y_mix.max() <= trait.max()
    r_real = np.corrcoef(Z[:, 0], trait)[0, 1]
    assert abs(np.corrcoef(Z_mix[:, 0], y_mix)[0, 1] - r_real) < 0.05
    Z_arr, y_arr = fitted_trait.sample(y=[45, 55.5], random_state=0)
    assert Z_arr.shape == (2, 6) and y_arr.tolist() == [45.0, 55.5]
    a, b = fitted_trait.sample(20, random_state=5), fitted_trait.sample(20, random_state=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="outside the range seen in fit"):
        fitted_trait.sample(2, y=trait.max() + 1.0)
    with pytest.raises(ValueError, match="outside the range"):
        fitted_trait.sample(y=[50.0, np.nan])
    with pytest.raises(TypeError, match="numeric"):
        fitted_trait.sample(y=["tall"])


def test_continuous_label_round_trips(fitted_trait, tmp_path):
    loaded = genosynth.load(genosynth.save(fitted_trait, tmp_path / "t.genosynth"))
    assert loaded.label_type_ == "continuous"
    for back in (loaded, pickle.loads(pickle.dumps(fitted_trait))):
        for y in (None, 47.5, [44.0, 56.0]):
            a = fitted_trait.sample(25, y=y, random_state=2)
            b = back.sample(25, y=y, random_state=2)
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])


def test_label_type_choice_and_errors(blobs, trait_blobs):
    Z, y = blobs
    Z_t, trait = trait_blobs
    # whole-number labels are classes unless told otherwise
    forced = ConditionalLatentDiffusion(**SMALL, max_iter=1, label_type="continuous")
    forced.fit(Z, y)
    assert forced.label_type_ == "continuous" and forced.label_quantiles_.tolist()[0] == 1.0
    assert forced.sample(3, y=1.5, random_state=0)[1].tolist() == [1.5] * 3
    with pytest.raises(ValueError, match="label_type='continuous'"):
        ConditionalLatentDiffusion(max_iter=1, label_type="categorical").fit(Z_t, trait)
    # a trait in whole units is read as classes under "auto", with a hint
    with pytest.warns(UserWarning, match="label_type='continuous'"):
        ConditionalLatentDiffusion(**SMALL, max_iter=1).fit(Z_t, np.round(trait))
    with pytest.raises(ValueError, match="constant"):
        ConditionalLatentDiffusion(max_iter=1, label_type="continuous").fit(Z, np.full(len(Z), 2.5))
    with pytest.raises(ValueError, match="NaN"):
        nan_trait = np.where(trait > 60, np.nan, trait)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # sklearn casts NaN before refusing it
            ConditionalLatentDiffusion(max_iter=1).fit(Z_t, nan_trait)
    with pytest.raises(ValueError, match="label_type"):
        ConditionalLatentDiffusion(label_type="ordinal").fit(Z, y)
