"""Few-step samplers distilled from a fitted denoiser's own sampling trajectories.

A fitted denoiser integrates the probability-flow ODE from noise in ``n``
steps. A student network, started from the teacher's weights, is trained so
that *one* deterministic DDIM step of the student from timestep ``t_i`` lands
where ``k`` consecutive steps of the teacher land, at ``t_{i+k}`` (the last
step lands on the teacher's clean sample). The training pairs are the
teacher's states along trajectories from fresh noise, recorded once: no
training data enters, only the teacher's outputs (Luhman & Luhman 2021 fit a
one-step student to teacher samples the same way; progressive distillation,
Salimans & Ho 2022, halves the steps from data instead). So the student is a
post-processing of the teacher: whatever the teacher guarantees about its
training data, formal privacy included, holds for the student.

The student learns the unconditional (null-label) flow, the one the default
pipeline samples (labels come from the label model's rejection); guided
sampling keeps the teacher.
"""

from __future__ import annotations

import copy

import torch

from genosynth.generative._torch_utils import precision
from genosynth.generative._training import TrainingHistory, train
from genosynth.generative.diffusion._schedules import SAMPLERS

# Rows of the teacher's trajectories computed together on a CPU: the conv
# network in float32 evaluates fastest in small batches (see _CPU_BATCH).
_TEACHER_BATCH = 64


def unconditional_velocity(module):
    """``v_fn(x, t)`` of ``module`` under the null label, as sampling calls it."""

    def v_fn(x, t):
        rows = len(x)
        steps = torch.full((rows,), t, device=x.device)
        labels = torch.full((rows,), module.null_label, device=x.device)
        if module.n_classes is not None:
            labels = labels.long()
        return module(x, steps, labels).float()

    return v_fn


@torch.no_grad()
def teacher_states(v_fn, noise, alphas_cumprod, timesteps, sampler: str) -> torch.Tensor:
    """The teacher's state at each of its timesteps, and its final sample.

    Parameters
    ----------
    v_fn : callable
        ``v_fn(x, t)`` -> velocity.
    noise : Tensor of shape (batch, dim)
        Starting noise.
    alphas_cumprod : Tensor of shape (T,)
    timesteps : sequence of int
        The teacher's timesteps, noisiest first.
    sampler : str
        A key of :data:`~genosynth.generative.diffusion._schedules.SAMPLERS`.

    Returns
    -------
    Tensor of shape (len(timesteps) + 1, batch, dim)
        Entry ``i`` is the input of the teacher's step at ``timesteps[i]``
        (entry 0 the noise itself); the last entry is the sample.

    Examples
    --------
    >>> from genosynth.generative.diffusion._schedules import cosine_alphas_cumprod
    >>> ac = cosine_alphas_cumprod(1000).float()
    >>> states = teacher_states(lambda x, t: 0 * x, torch.ones(2, 3), ac, [999, 499], "ddim")
    >>> tuple(states.shape)
    (3, 2, 3)
    """
    seen = []

    def recording(x, t):
        seen.append(x)
        return v_fn(x, t)

    final = SAMPLERS[sampler](recording, noise, alphas_cumprod, timesteps)
    return torch.stack([*seen, final])


def ddim_clean_target(x_t, x_s, a_t, a_s):
    """The clean-sample prediction with which one DDIM step from ``x_t`` lands on ``x_s``.

    A deterministic DDIM step from signal share ``a_t`` to ``a_s`` maps a
    clean prediction ``x0`` to ``sqrt(a_s) x0 + sqrt(1 - a_s) eps`` with
    ``eps = (x_t - sqrt(a_t) x0) / sqrt(1 - a_t)``, which is affine in ``x0``;
    this solves it for ``x0``. ``a_s = 1`` (the last step) gives ``x_s``.

    Examples
    --------
    >>> x_t, x0 = torch.tensor([0.3]), torch.tensor([1.5])
    >>> a_t, a_s = torch.tensor(0.2), torch.tensor(0.7)
    >>> eps = (x_t - a_t.sqrt() * x0) / (1 - a_t).sqrt()
    >>> x_s = a_s.sqrt() * x0 + (1 - a_s).sqrt() * eps
    >>> round(ddim_clean_target(x_t, x_s, a_t, a_s).item(), 4)
    1.5
    """
    ratio = ((1 - a_s) / (1 - a_t)).sqrt()
    return (x_s - ratio * x_t) / (a_s.sqrt() - ratio * a_t.sqrt())


def student_indices(n_teacher: int, student_steps: int) -> list[int]:
    """Where the student's steps start, as indices into the teacher's timesteps.

    Each student step covers ``n_teacher // student_steps`` teacher steps; the
    steps left over go one each to the noisiest student steps, where the
    teacher's trajectories are nearly straight and a long jump costs least.

    Examples
    --------
    >>> student_indices(8, 4), student_indices(8, 3), student_indices(8, 2)
    ([0, 2, 4, 6], [0, 3, 6], [0, 4])
    """
    if not 1 <= student_steps <= n_teacher:
        raise ValueError(
            f"student_steps={student_steps} must be between 1 and the teacher's "
            f"{n_teacher} sampling steps"
        )
    jump, extra = divmod(n_teacher, student_steps)
    starts, at = [], 0
    for k in range(student_steps):
        starts.append(at)
        at += jump + (k < extra)
    return starts


def student_timesteps(teacher_timesteps, student_steps: int) -> list[int]:
    """The student's timesteps: the teacher's at :func:`student_indices`.

    Examples
    --------
    >>> student_timesteps([999, 874, 749, 624, 499, 374, 249, 124], 4)
    [999, 749, 499, 249]
    """
    teacher_timesteps = list(teacher_timesteps)
    return [teacher_timesteps[i] for i in student_indices(len(teacher_timesteps), student_steps)]


def distillation_pairs(states, timesteps, alphas_cumprod):
    """Student training rows ``(x_t, t, target x0, loss weight)`` from teacher states.

    ``states`` holds the teacher's state at each of the student's
    ``timesteps`` and, last, its sample (shape ``(len(timesteps) + 1, batch,
    dim)``); the student's step from ``timesteps[i]`` targets state ``i + 1``.
    Each row's x0 error is weighted by ``max(SNR_t, 1)`` (the truncated-SNR
    weighting of Salimans & Ho 2022), so that the noisy steps, where any x0
    prediction is poor, do not dominate the loss.
    """
    ac = alphas_cumprod.to(states.device, torch.float32)
    xs, ts, targets, weights = [], [], [], []
    for i, t in enumerate(timesteps):
        a_t = ac[t]
        a_s = ac[timesteps[i + 1]] if i + 1 < len(timesteps) else torch.ones(())
        xs.append(states[i])
        targets.append(ddim_clean_target(states[i], states[i + 1], a_t, a_s))
        ts.append(torch.full((states.shape[1],), t, dtype=torch.long))
        weights.append(torch.full((states.shape[1],), max(float(a_t / (1 - a_t)), 1.0)))
    return torch.cat(xs), torch.cat(ts), torch.cat(targets), torch.cat(weights)


def distil_unconditional(
    teacher,
    n_features: int,
    alphas_cumprod,
    teacher_timesteps,
    sampler: str,
    student_steps: int,
    *,
    n_trajectories: int,
    max_iter: int,
    batch_size: int = 256,
    learning_rate_init: float = 5e-4,
    ema_decay: float | None = 0.995,
    validation_fraction: float = 0.1,
    generator: torch.Generator,
    training_dtype: str = "float32",
    verbose: bool = False,
) -> tuple[torch.nn.Module, TrainingHistory]:
    """A copy of ``teacher`` trained to sample in ``student_steps`` DDIM steps.

    Parameters
    ----------
    teacher : torch.nn.Module
        A fitted denoiser (``forward(x, t, labels)`` -> velocity).
    n_features : int
        Its latent dimension.
    alphas_cumprod : Tensor of shape (T,)
    teacher_timesteps : list of int
        The teacher's sampling timesteps, noisiest first.
    sampler : str
        The teacher's sampler.
    student_steps : int
        At most ``len(teacher_timesteps)`` (see :func:`student_indices`).
    n_trajectories : int
        Teacher trajectories from fresh noise (a share held out for validation).
    max_iter, batch_size, learning_rate_init, ema_decay
        As :func:`~genosynth.generative._training.train` takes them.
    validation_fraction : float, default=0.1
    generator : torch.Generator
        The source of the noise and the batch order.
    training_dtype : {"auto", "float32", "bfloat16"}, default="float32"
        Precision of the student's matrix products in training (as the
        estimators' ``training_dtype``); the teacher's trajectories are
        computed in float32.
    verbose : bool, default=False
        Show a progress bar.

    Returns
    -------
    student : torch.nn.Module
    history : TrainingHistory
    """
    teacher = teacher.eval()
    device = next(teacher.parameters()).device
    noise = torch.randn((n_trajectories, n_features), generator=generator)
    v_fn = unconditional_velocity(teacher)
    starts = student_indices(len(teacher_timesteps), student_steps)
    grid = [teacher_timesteps[i] for i in starts]
    # Only the states on the student's grid and the sample are kept (memory:
    # trajectories x steps x dim).
    kept = [*starts, len(teacher_timesteps)]
    states = torch.cat(
        [
            teacher_states(
                v_fn,
                noise[s : s + _TEACHER_BATCH].to(device),
                alphas_cumprod,
                teacher_timesteps,
                sampler,
            )[kept].cpu()
            for s in range(0, n_trajectories, _TEACHER_BATCH)
        ],
        dim=1,
    )
    n_val = max(1, round(validation_fraction * n_trajectories))
    fit_rows = distillation_pairs(states[:, n_val:], grid, alphas_cumprod)
    val_rows = distillation_pairs(states[:, :n_val], grid, alphas_cumprod)
    del states
    ac = alphas_cumprod.to(device, torch.float32)
    null = teacher.null_label

    def loss(net, batch, generator=None):
        x_t, t, target, weight = batch
        labels = torch.full((len(x_t),), null, device=x_t.device)
        if net.n_classes is not None:
            labels = labels.long()
        a = ac[t].unsqueeze(-1)
        with precision(x_t.device, training_dtype):
            v = net(x_t, t, labels)
        x0 = a.sqrt() * x_t - (1 - a).sqrt() * v.float()
        return ((x0 - target).square().mean(-1) * weight).mean()

    def score(net, rows):
        total = 0.0
        for s in range(0, len(rows[0]), 1024):
            chunk = tuple(r[s : s + 1024] for r in rows)
            total += float(loss(net, chunk)) * len(chunk[0])
        return -total / len(rows[0])

    student = copy.deepcopy(teacher)
    for p in student.parameters():
        p.requires_grad_(True)
    history = train(
        student,
        loss,
        tuple(r.to(device) for r in fit_rows),
        max_iter=max_iter,
        batch_size=batch_size,
        learning_rate_init=learning_rate_init,
        generator=generator,
        validation_tensors=tuple(r.to(device) for r in val_rows),
        score_fn=score,
        ema_decay=ema_decay,
        n_iter_no_change=None,
        verbose=verbose,
        desc="distil",
        score_name="val_x0_mse",
        score_is_negated_loss=True,
    )
    return student, history
