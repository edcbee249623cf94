"""Few-step students distilled from a fitted denoiser's sampling trajectories."""

import copy

import numpy as np
import pytest
import torch
from sklearn.base import clone

from genosynth import ConditionalLatentDiffusion
from genosynth.generative.diffusion import diffusion as diffusion_module
from genosynth.generative.diffusion._distillation import (
    ddim_clean_target,
    distil_unconditional,
    distillation_pairs,
    student_indices,
    student_timesteps,
    teacher_states,
    unconditional_velocity,
)
from genosynth.generative.diffusion._schedules import SAMPLERS, sampling_timesteps

TEACHER_STEPS = sampling_timesteps(1000, 8)


def _clusters():
    """Latents of two labelled, bimodal clusters in 16 dimensions, and their labels."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 600)
    modes = np.where(rng.random((600, 1)) < 0.5, -1.5, 1.5)
    Z = (rng.normal(size=(600, 16)) * 0.3 + modes + y[:, None]).astype(np.float32)
    return Z, y


@pytest.fixture(scope="module")
def teacher():
    """A small MLP denoiser fitted on :func:`_clusters`."""
    return ConditionalLatentDiffusion(
        denoiser="mlp",
        hidden_size=64,
        n_blocks=2,
        max_iter=60,
        distilled_steps=None,
        random_state=0,
        training_dtype="float32",
        sampling_dtype="float32",
    ).fit(*_clusters())


def _sample(module, noise, ac, sampler, steps):
    with torch.no_grad():
        return SAMPLERS[sampler](unconditional_velocity(module), noise, ac, steps)


def test_teacher_states_start_at_the_noise_and_end_at_the_sample(teacher):
    ac = teacher._alphas_cumprod()
    noise = torch.randn(50, 16, generator=torch.Generator().manual_seed(0))
    states = teacher_states(
        unconditional_velocity(teacher.module_), noise, ac, TEACHER_STEPS, "dpm++2m"
    )
    assert states.shape == (9, 50, 16)
    torch.testing.assert_close(states[0], noise)
    torch.testing.assert_close(
        states[-1], _sample(teacher.module_, noise, ac, "dpm++2m", TEACHER_STEPS)
    )


def test_pairs_of_a_ddim_teacher_at_its_own_steps_cost_the_teacher_nothing(teacher):
    """With as many student steps as teacher steps, a DDIM teacher's own clean
    predictions are the targets: the distillation loss of the teacher is zero."""
    ac = teacher._alphas_cumprod()
    noise = torch.randn(40, 16, generator=torch.Generator().manual_seed(1))
    v_fn = unconditional_velocity(teacher.module_)
    states = teacher_states(v_fn, noise, ac, TEACHER_STEPS, "ddim")
    x_t, t, target, weight = distillation_pairs(states, TEACHER_STEPS, ac)
    assert x_t.shape == (8 * 40, 16) and (weight >= 1).all()
    with torch.no_grad():
        a = ac[t].unsqueeze(-1)
        labels = torch.full((len(x_t),), teacher.module_.null_label, dtype=torch.long)
        x0 = a.sqrt() * x_t - (1 - a).sqrt() * teacher.module_(x_t, t, labels)
    torch.testing.assert_close(x0, target, rtol=1e-3, atol=1e-3)


def test_clean_target_of_the_last_step_is_the_sample():
    x_t, x_s = torch.randn(3, 4), torch.randn(3, 4)
    out = ddim_clean_target(x_t, x_s, torch.tensor(0.3), torch.ones(()))
    torch.testing.assert_close(out, x_s)


def test_student_steps_cover_the_teacher_steps_longest_first():
    assert student_timesteps(TEACHER_STEPS, 2) == [999, 499]
    assert student_timesteps(TEACHER_STEPS, 8) == TEACHER_STEPS
    # 8 teacher steps in 3: stretches of 3, 3 and 2, the longer ones at the noisy end
    assert student_indices(8, 3) == [0, 3, 6]
    assert student_indices(7, 4) == [0, 2, 4, 6]
    for n, k in ((8, 5), (9, 2), (24, 7)):
        stretches = np.diff([*student_indices(n, k), n])
        assert stretches.sum() == n and stretches.max() - stretches.min() <= 1
        assert list(stretches) == sorted(stretches, reverse=True)
    for bad in (0, 9):
        with pytest.raises(ValueError, match="between 1 and"):
            student_timesteps(TEACHER_STEPS, bad)


def test_student_lands_nearer_the_teacher_than_the_teacher_in_as_few_steps(teacher):
    """From held-out noise, the 2-step student's samples are nearer the 8-step
    teacher's than the teacher's own 2-step samples are, and it is seeded."""
    ac = teacher._alphas_cumprod()

    def distil(seed):
        return distil_unconditional(
            teacher.module_,
            16,
            ac,
            TEACHER_STEPS,
            "dpm++2m",
            2,
            n_trajectories=4000,
            max_iter=10,
            generator=torch.Generator().manual_seed(seed),
        )

    student, history = distil(0)
    assert history.n_iter == 10 and len(history.validation_scores) == 10
    noise = torch.randn(2000, 16, generator=torch.Generator().manual_seed(5))
    two = sampling_timesteps(1000, 2)
    reference = _sample(teacher.module_, noise, ac, "dpm++2m", TEACHER_STEPS)
    scale = reference.std(0).mean()
    plain = (_sample(teacher.module_, noise, ac, "ddim", two) - reference).square().mean().sqrt()
    out = _sample(student, noise, ac, "ddim", two)
    distilled = (out - reference).square().mean().sqrt()
    # Measured 0.25 (student) against 0.47 (teacher in 2 steps), in units of the sample's SD.
    assert distilled / scale < 0.7 * plain / scale, (distilled / scale, plain / scale)
    again, _ = distil(0)
    torch.testing.assert_close(_sample(again, noise, ac, "ddim", two), out, rtol=0, atol=0)
    # The teacher is left as it was.
    torch.testing.assert_close(
        _sample(teacher.module_, noise, ac, "dpm++2m", TEACHER_STEPS), reference
    )


@pytest.fixture(scope="module")
def distilled(teacher):
    """The teacher's estimator refitted with ``distilled_steps=2`` (same seed, same data)."""
    return clone(teacher).set_params(distilled_steps=2).fit(*_clusters())


def test_distilled_steps_add_a_student_and_leave_the_denoiser_alone(teacher, distilled):
    """The denoiser and every guided draw are those of a fit without distillation;
    unconditional draws run the student in two DDIM steps, unless n_steps is passed."""
    for a, b in zip(teacher.module_.parameters(), distilled.module_.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert distilled.distilled_timesteps_ == [999, 499]
    assert not hasattr(teacher, "distilled_module_")
    np.testing.assert_array_equal(
        teacher.sample(50, y=1, random_state=3)[0], distilled.sample(50, y=1, random_state=3)[0]
    )
    unconditional = {"guidance_scale": 0.0, "guidance_interval": (0.0, 1.0), "random_state": 3}
    Z_student, _ = distilled.sample(2000, **unconditional)
    Z_teacher, _ = teacher.sample(2000, **unconditional)
    assert not np.allclose(Z_student, Z_teacher)
    np.testing.assert_array_equal(distilled.sample(2000, n_steps=8, **unconditional)[0], Z_teacher)
    # The student's cohort matches the teacher's: per-dimension means within 0.1
    # and SDs within 10% (the latents' SD is about 1.6).
    np.testing.assert_allclose(Z_student.mean(0), Z_teacher.mean(0), atol=0.1)
    np.testing.assert_allclose(Z_student.std(0), Z_teacher.std(0), rtol=0.1)
    # It is two DDIM steps of the student from the same noise and labels.
    swapped = copy.deepcopy(teacher).set_params(sampler="ddim", n_steps=2)
    swapped.module_ = distilled.distilled_module_
    np.testing.assert_array_equal(swapped.sample(2000, **unconditional)[0], Z_student)
    # Sampling settings changed after the fit ask for the fitted denoiser with them.
    assert distilled.distilled_from_ == {"n_steps": 8, "sampler": "dpm++2m"}
    for change in ({"n_steps": 4}, {"sampler": "ddim"}):
        changed = copy.deepcopy(distilled).set_params(**change)
        expected = copy.deepcopy(teacher).set_params(**change).sample(200, **unconditional)[0]
        np.testing.assert_array_equal(changed.sample(200, **unconditional)[0], expected)


def test_distilled_sampler_survives_save_load_and_pickle(distilled, tmp_path):
    import pickle

    import genosynth

    unconditional = {"guidance_scale": 0.0, "guidance_interval": (0.0, 1.0), "random_state": 4}
    expected = distilled.sample(300, **unconditional)[0]
    loaded = genosynth.load(genosynth.save(distilled, tmp_path / "d.genosynth"))
    np.testing.assert_array_equal(loaded.sample(300, **unconditional)[0], expected)
    assert loaded.distilled_timesteps_ == [999, 499]
    unpickled = pickle.loads(pickle.dumps(distilled))
    np.testing.assert_array_equal(unpickled.sample(300, **unconditional)[0], expected)


def test_no_student_at_or_beyond_n_steps_and_a_refit_drops_the_student(distilled, monkeypatch):
    monkeypatch.setattr(diffusion_module, "_DISTILLATION_TRAJECTORIES", 256)  # mechanics only
    Z = np.random.default_rng(1).normal(size=(40, 16)).astype(np.float32)
    y = np.arange(40) % 2
    tiny = dict(denoiser="mlp", hidden_size=8, n_blocks=1, max_iter=1, random_state=0)
    three = ConditionalLatentDiffusion(distilled_steps=3, **tiny).fit(Z, y)
    assert three.distilled_timesteps_ == [999, 624, 249]
    for steps in (8, 9, None):  # the fitted denoiser already samples in that many steps
        model = ConditionalLatentDiffusion(distilled_steps=steps, **tiny).fit(Z, y)
        assert not hasattr(model, "distilled_module_")
    # "auto": a 2-step student from 4,000 training latents (after the validation split)
    auto = ConditionalLatentDiffusion(max_iter=1, denoiser="mlp", hidden_size=8, n_blocks=1)
    assert [auto._student_steps(n) for n in (3_999, 4_000)] == [None, 2]
    assert auto.set_params(n_steps=2)._student_steps(10**6) is None
    refit = clone(distilled)
    refit.set_params(distilled_steps=None, max_iter=1).fit(Z, y)
    assert not hasattr(refit, "distilled_module_")
    # A fitted estimator refitted in place loses its stale student too.
    fitted = copy.deepcopy(distilled)
    fitted.set_params(distilled_steps=None, max_iter=1).fit(Z, y)
    assert not hasattr(fitted, "distilled_module_")
    assert not hasattr(fitted, "distilled_timesteps_")
