"""Few-step samplers distilled from the default denoiser, judged on the default cohort.

The cached default float32 pipeline (``bench_sampling_sweep.py``'s: N = 10,000,
8,000 train, K = 1,024) samples unconditionally in 8 DPM-Solver++(2M) steps and
takes its labels from the label model. Each ``--student-steps S`` distils its
denoiser as ``ConditionalLatentDiffusion(distilled_steps=S)`` does after a fit
(a copy trained to land in one DDIM step where ``8 / S`` teacher steps land,
on teacher trajectories from fresh noise, no training data), then samples
8,000 with it (label model as by default) and is judged with
``bench_end_to_end.py``'s metrics beside the default and (unless
``--no-teacher-rows``) the teacher itself run at ``S`` steps. ``--repeats R``
judges every row on R cohorts sampled with different seeds, so that the
seed-to-seed spread of each metric shows; ``--epochs`` and ``--trajectories``
change the distillation budget for this run. Also printed: the distillation's
time (``distil_s``: trajectories and training) and the
student's distance to the teacher's sample from the same held-out noise
(``to_teacher``: RMSE over the latent's standard deviation, 1 = as far as an
unrelated sample).

Usage::

    python benchmarks/bench_distillation.py --student-steps 4 --student-steps 2
    python benchmarks/bench_distillation.py --student-steps 2 --repeats 3 --no-teacher-rows

Prints a markdown table (copy it into benchmarks/README.md with the date).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from bench_end_to_end import KEY_METRICS  # noqa: E402
from bench_sampling_sweep import add_default_arguments, default_setup, judged, print_table  # noqa: E402


def _held_out_distance(diffusion, student, steps, n=2_000, seed=12345) -> float:
    """RMSE between teacher and student samples from the same noise, over the sample's SD."""
    import torch

    from genosynth.generative.diffusion._distillation import unconditional_velocity
    from genosynth.generative.diffusion._schedules import SAMPLERS, sampling_timesteps

    noise = torch.randn(
        (n, diffusion.n_features_in_), generator=torch.Generator().manual_seed(seed)
    )
    ac = diffusion._alphas_cumprod()
    teacher = diffusion.module_.eval()
    with torch.no_grad():
        ref = SAMPLERS[diffusion.sampler](
            unconditional_velocity(teacher),
            noise,
            ac,
            sampling_timesteps(diffusion.n_timesteps, diffusion.n_steps),
        )
        out = SAMPLERS["ddim"](
            unconditional_velocity(student),
            noise,
            ac,
            sampling_timesteps(diffusion.n_timesteps, steps),
        )
    return float((out - ref).square().mean().sqrt() / ref.std(0).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_default_arguments(parser)
    parser.add_argument("--student-steps", type=int, action="append", default=[])
    parser.add_argument("--repeats", type=int, default=1, help="sampling seeds per row")
    parser.add_argument("--no-teacher-rows", action="store_true")
    parser.add_argument(
        "--no-default-row", action="store_true", help="skip the default (judged in an earlier run)"
    )
    parser.add_argument("--epochs", type=int, help="student epochs (default: the library's)")
    parser.add_argument(
        "--trajectories", type=int, help="teacher trajectories (default: the library's)"
    )
    args = parser.parse_args()

    from genosynth import GenerativePipeline
    from genosynth.generative.diffusion import diffusion as diffusion_module
    from genosynth.generative.diffusion._schedules import sampling_timesteps

    # Budget variants: the library's constants overridden for this run only.
    if args.epochs is not None:
        diffusion_module._DISTILLATION_EPOCHS = args.epochs
    if args.trajectories is not None:
        diffusion_module._DISTILLATION_TRAJECTORIES = args.trajectories

    setup = default_setup(args)
    pipe = setup.pipe
    diffusion = pipe["diffusion"]
    seeds = [setup.seed + 1 + r for r in range(args.repeats)]

    def rows_of(name, fitted, extra=None):
        return [
            judged(setup, name, fitted, extra, sample_seed=seed) | {"seed": seed} for seed in seeds
        ]

    rows = [] if args.no_default_row else rows_of("default (8 teacher steps)", pipe)
    for steps in args.student_steps or [4, 2]:
        if not args.no_teacher_rows:
            pipe.set_params(diffusion__n_steps=steps)
            rows += rows_of(f"teacher, {steps} steps", pipe)
            pipe.set_params(diffusion__n_steps=8)
        distilled = copy.deepcopy(diffusion).set_params(distilled_steps=steps, verbose=True)
        t0 = time.perf_counter()
        # The step fit() runs after training, on the fitted teacher.
        distilled._distil(
            sampling_timesteps(distilled.n_timesteps, distilled.n_steps),
            steps,
            np.random.default_rng(args.seed),
            distilled._device(),
        )
        extra = {
            "distil_s": time.perf_counter() - t0,
            "to_teacher": _held_out_distance(diffusion, distilled.distilled_module_, steps),
        }
        student_pipe = GenerativePipeline([*pipe.steps[:-1], ("diffusion", distilled)])
        rows += rows_of(f"student, {steps} steps", student_pipe, extra)
    budget = (diffusion_module._DISTILLATION_EPOCHS, diffusion_module._DISTILLATION_TRAJECTORIES)
    print(f"student budget: {budget[0]} epochs, up to {budget[1]:,} trajectories")
    cols = ["config", "seed", "arithmetic", "samples_per_s", "distil_s", "to_teacher"]
    print_table(rows, cols + list(KEY_METRICS))


if __name__ == "__main__":
    main()
