"""Few-step samplers distilled from the default denoiser, judged on the default cohort.

The cached default float32 pipeline (``bench_sampling_sweep.py``'s: N = 10,000,
8,000 train, K = 1,024) samples unconditionally in 8 DPM-Solver++(2M) steps and
takes its labels from the label model. Each ``--student-steps S`` trains a
copy of its denoiser to land in one DDIM step where ``8 / S`` teacher steps
land, on ``--n-trajectories`` teacher trajectories from fresh noise (no
training data), then samples 8,000 with it (label model as by default) and is
judged with ``bench_end_to_end.py``'s metrics beside the default and the
teacher itself run at ``S`` steps. Also printed: the student's distance to the
teacher's sample from the same held-out noise (RMSE over the latent's
standard deviation, 1 = as far as an unrelated sample), and the time spent
recording trajectories and training.

Usage::

    python benchmarks/bench_distillation.py --student-steps 4 --student-steps 2

Prints a markdown table (copy it into benchmarks/README.md with the date).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

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
    parser.add_argument("--n-trajectories", type=int, default=32_000)
    parser.add_argument("--max-iter", type=int, default=6, help="student epochs")
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    args = parser.parse_args()

    import torch

    from genosynth import GenerativePipeline
    from genosynth.generative.diffusion._distillation import distil_unconditional
    from genosynth.generative.diffusion._schedules import sampling_timesteps

    setup = default_setup(args)
    pipe = setup.pipe
    diffusion = pipe["diffusion"]
    rows = [judged(setup, "default (8 teacher steps)", pipe)]
    for steps in args.student_steps or [4, 2]:
        pipe.set_params(diffusion__n_steps=steps)
        rows.append(judged(setup, f"teacher, {steps} steps", pipe))
        pipe.set_params(diffusion__n_steps=8)
        t0 = time.perf_counter()
        student, history = distil_unconditional(
            diffusion.module_,
            diffusion.n_features_in_,
            diffusion._alphas_cumprod(),
            sampling_timesteps(diffusion.n_timesteps, diffusion.n_steps),
            diffusion.sampler,
            steps,
            n_trajectories=args.n_trajectories,
            max_iter=args.max_iter,
            learning_rate_init=args.learning_rate,
            generator=torch.Generator().manual_seed(args.seed),
            verbose=True,
        )
        distil_s = time.perf_counter() - t0
        distilled = copy.deepcopy(diffusion).set_params(n_steps=steps, sampler="ddim")
        distilled.module_ = student
        extra = {
            "distil_s": distil_s,
            "val_x0_mse": -max(history.validation_scores),
            "to_teacher": _held_out_distance(diffusion, student, steps),
        }
        student_pipe = GenerativePipeline([*pipe.steps[:-1], ("diffusion", distilled)])
        rows.append(judged(setup, f"student, {steps} steps", student_pipe, extra))
    cols = ["config", "arithmetic", "samples_per_s", "distil_s", "val_x0_mse", "to_teacher"]
    print_table(rows, cols + list(KEY_METRICS))


if __name__ == "__main__":
    main()
