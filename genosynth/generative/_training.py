"""The training loop shared by GenotypeVAE and ConditionalLatentDiffusion.

One function, :func:`train`, runs mini-batch AdamW over tensors held in
memory (linear warm-up, cosine decay, gradients clipped to norm 1), keeps an
exponential moving average (EMA) of the weights when asked,
scores a validation split after every epoch and keeps the best checkpoint by
that score, not the last step. The model-specific parts come in as two
callables:

* ``loss_fn(module, batch, generator) -> torch.Tensor``: the training loss of
  one mini-batch (a tuple of tensors already on the device);
* ``score_fn(module, tensors) -> float``: a validation score, *higher is
  better* (e.g. reconstruction accuracy, or minus a denoising loss).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from genosynth.generative._torch_utils import state_dict_to_cpu

_WARMUP_STEPS = 200
_MAX_GRAD_NORM = 1.0


@dataclass
class TrainingHistory:
    """What one call of :func:`train` measured.

    Attributes
    ----------
    loss_curve : list of float
        Mean training loss per epoch.
    validation_scores : list of float
        Validation score per epoch (empty without a validation split).
    n_iter : int
        Epochs run.
    best_iteration : int
        1-based epoch whose weights were kept.
    """

    loss_curve: list[float] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    n_iter: int = 0
    best_iteration: int = 0


class _EMA:
    """Exponential moving average of a module's floating-point state."""

    def __init__(self, module: torch.nn.Module, decay: float):
        self.decay = decay
        self.shadow = copy.deepcopy(module).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, module: torch.nn.Module) -> None:
        for s, p in zip(self.shadow.state_dict().values(), module.state_dict().values()):
            if s.dtype.is_floating_point:
                s.lerp_(p, 1.0 - self.decay)
            else:
                s.copy_(p)


def _batches(n: int, batch_size: int, generator: torch.Generator, shuffle: bool):
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


@torch.no_grad()
def _score(module, score_fn, tensors) -> float:
    was_training = module.training
    module.eval()
    try:
        return float(score_fn(module, tensors))
    finally:
        module.train(was_training)


def train(
    module: torch.nn.Module,
    loss_fn,
    train_tensors: tuple[torch.Tensor, ...],
    *,
    max_iter: int,
    batch_size: int,
    learning_rate_init: float,
    generator: torch.Generator,
    validation_tensors: tuple[torch.Tensor, ...] | None = None,
    score_fn=None,
    weight_decay: float = 0.0,
    ema_decay: float | None = None,
    n_iter_no_change: int | None = 10,
    tol: float = 0.0,
    lr_decay: bool = True,
    verbose: bool = False,
    desc: str = "train",
    history: TrainingHistory | None = None,
    score_name: str = "val",
    score_is_negated_loss: bool = False,
) -> TrainingHistory:
    """Fit ``module`` in place and load the best validation checkpoint into it.

    Parameters
    ----------
    module : torch.nn.Module
        The network, already on the device of ``train_tensors``.
    loss_fn : callable
        ``loss_fn(module, batch, generator)`` returning a scalar loss tensor.
    train_tensors : tuple of Tensor
        Tensors sharing their first dimension (samples).
    max_iter : int
        Maximum number of epochs.
    batch_size : int
        Mini-batch size (clipped to the number of training samples).
    learning_rate_init : float
        AdamW peak learning rate, reached after a linear warm-up over the
        first 200 steps (at most a tenth of training); cosine-decayed to 5% over
        ``max_iter`` epochs when ``lr_decay`` is true.
    generator : torch.Generator
        Source of all randomness here (batch order) and passed to ``loss_fn``.
    validation_tensors : tuple of Tensor, optional
        Held-out tensors scored after each epoch by ``score_fn``.
    score_fn : callable, optional
        ``score_fn(module, validation_tensors)`` -> float, higher is better.
        When EMA is on, the EMA weights are scored and kept.
    weight_decay : float, default=0
        AdamW weight decay.
    ema_decay : float, optional
        EMA decay per optimiser step (e.g. 0.999); None disables EMA.
    n_iter_no_change : int or None, default=10
        Stop after this many epochs without a validation improvement larger
        than ``tol``; None never stops early.
    tol : float, default=0
        Minimum validation-score improvement that counts.
    lr_decay : bool, default=True
        Cosine learning-rate decay over ``max_iter`` epochs.
    verbose : bool, default=False
        Show a tqdm progress bar with the running loss and validation score.
    score_name : str, default="val"
        What the progress bar calls the validation score.
    score_is_negated_loss : bool, default=False
        Whether ``score_fn`` returns a loss with its sign flipped (higher is
        better); the progress bar then shows the loss itself, a positive
        number a user can read, rather than its negation.
    desc : str
        Progress bar label.
    history : TrainingHistory, optional
        Continue this history (``warm_start``).

    Returns
    -------
    TrainingHistory
    """
    history = history if history is not None else TrainingHistory()
    n = train_tensors[0].shape[0]
    batch_size = max(1, min(batch_size, n))
    optimiser = torch.optim.AdamW(
        module.parameters(), lr=learning_rate_init, weight_decay=weight_decay
    )
    steps_per_epoch = math.ceil(n / batch_size)
    total_steps = max(1, max_iter * steps_per_epoch)

    # A short linear warm-up keeps Adam's first, badly scaled steps from
    # knocking a freshly initialised network into a degenerate solution (seen
    # as a VAE collapsing to the majority genotype on small cohorts).
    warmup = min(_WARMUP_STEPS, max(1, total_steps // 10))

    def lr_at(step: int) -> float:
        ramp = min(1.0, (step + 1) / warmup)
        if not lr_decay:
            return learning_rate_init * ramp
        cosine = 0.5 * (1 + math.cos(math.pi * step / total_steps))
        return learning_rate_init * ramp * (0.05 + 0.95 * cosine)

    ema = _EMA(module, ema_decay) if ema_decay else None
    scored = ema.shadow if ema is not None else module
    validate = validation_tensors is not None and score_fn is not None
    best_score, best_state, since_best, step = -math.inf, None, 0, 0
    start_epoch = history.n_iter

    bar = tqdm(range(max_iter), desc=desc, disable=not verbose, leave=False)
    module.train()
    for epoch in bar:
        total, count = 0.0, 0
        for idx in _batches(n, batch_size, generator, shuffle=True):
            for group in optimiser.param_groups:
                group["lr"] = lr_at(step)
            batch = tuple(t[idx] for t in train_tensors)
            loss = loss_fn(module, batch, generator)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"{desc}: training loss became {loss.item()} at epoch {epoch + 1}; "
                    "lower learning_rate_init"
                )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), _MAX_GRAD_NORM)
            optimiser.step()
            if ema is not None:
                ema.update(module)
            total += loss.item() * len(idx)
            count += len(idx)
            step += 1
        history.loss_curve.append(total / count)
        history.n_iter = start_epoch + epoch + 1
        postfix = {"loss": f"{history.loss_curve[-1]:.4f}"}
        if validate:
            score = _score(scored, score_fn, validation_tensors)
            history.validation_scores.append(score)
            postfix[score_name] = f"{-score if score_is_negated_loss else score:.4f}"
            if score > best_score + tol:
                best_score, since_best = score, 0
                best_state = state_dict_to_cpu(scored)
                history.best_iteration = history.n_iter
            else:
                since_best += 1
            if n_iter_no_change is not None and since_best >= n_iter_no_change:
                bar.set_postfix(postfix)
                break
        bar.set_postfix(postfix)
    bar.close()

    if best_state is None:
        best_state = state_dict_to_cpu(scored)
        history.best_iteration = history.n_iter
    module.load_state_dict(best_state)
    module.eval()
    return history
