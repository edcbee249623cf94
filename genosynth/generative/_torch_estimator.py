"""What the torch-backed estimators share: device, seeds, the fit phases, saving.

A fitted estimator holds its network in ``module_`` and everything needed to
rebuild it in ``module_config_`` (a dict of constructor arguments); an
estimator may hold further networks of the same configuration under the names
in ``_fitted_modules`` (e.g. a distilled sampler). Pickles and model files
store the weights as CPU tensors, so a model fitted on a GPU loads on a
machine without one.

``fit`` runs in named phases, as scikit-learn's MLP does: the validation split
(:meth:`TorchEstimatorMixin._validation_split`), the epoch budget
(``_epoch_budget``), the objective (``_objective``: the loss of one
mini-batch), the optimisation (:meth:`TorchEstimatorMixin._train_network`,
over :func:`genosynth.generative._training.train`) and the history it records
(``loss_curve_``, ``validation_scores_``, ``n_iter_``, ``best_iteration_``).
A subclass supplies the model-specific phases; a new kind of training (e.g.
differentially private steps) changes the shared ones once for every model.
"""

from __future__ import annotations

import numpy as np
import torch

from genosynth.generative._torch_utils import (
    make_generator,
    resolve_device,
    seed_from,
    state_dict_to_cpu,
)
from genosynth.generative._training import TrainingHistory, train
from genosynth.persistence import set_fitted, split_fitted


class TorchEstimatorMixin:
    """Mixin for estimators whose fitted network lives in ``module_``.

    Subclasses implement ``_build_module(config) -> torch.nn.Module`` and the
    model-specific fit phases: ``_epoch_budget(n_train) -> int`` and
    ``_objective(device) -> loss_fn``; they may override ``_batch_size`` and
    ``_learning_rate`` (their parameters, resolved).
    """

    # Attributes holding fitted networks built from ``module_config_``; each is
    # saved under its name and rebuilt on load when present.
    _fitted_modules = ("module_",)

    def _device(self) -> torch.device:
        return resolve_device(self.device)

    @staticmethod
    def _generator(random_state, device) -> torch.Generator:
        """A local generator: randomness never flows through torch's global RNG."""
        return make_generator(seed_from(random_state), device)

    # -- the fit phases ------------------------------------------------------------------------

    def _validation_split(self, n: int, rng: np.random.Generator, device):
        """Sorted indices of the rows fitted on and of the validation rows.

        With ``early_stopping`` a ``validation_fraction`` of the rows (at
        least one, and one fewer than all) is held out to score each epoch;
        without it nothing is. The permutation is drawn either way, so the
        random stream after the split does not depend on ``early_stopping``.
        """
        n_val = 0
        if self.early_stopping:
            n_val = min(max(int(round(self.validation_fraction * n)), 1), n - 1)
        order = rng.permutation(n)
        fit_idx = torch.as_tensor(np.sort(order[n_val:]), device=device)
        val_idx = torch.as_tensor(np.sort(order[:n_val]), device=device)
        return fit_idx, val_idx

    def _batch_size(self, n_train: int) -> int:
        return self.batch_size

    def _learning_rate(self) -> float:
        return self.learning_rate_init

    def _train_network(
        self,
        train_tensors: tuple,
        validation: tuple | None,
        score_fn,
        *,
        rng: np.random.Generator,
        device,
        history: TrainingHistory | None = None,
        **options,
    ) -> None:
        """Optimise ``module_`` on the objective and record the history on ``self``.

        ``options`` go to :func:`~genosynth.generative._training.train` (e.g.
        ``ema_decay``, how the progress bar names the score).
        """
        n_train = len(train_tensors[0])
        history = train(
            self.module_,
            self._objective(device),
            train_tensors,
            max_iter=self._epoch_budget(n_train),
            batch_size=self._batch_size(n_train),
            learning_rate_init=self._learning_rate(),
            generator=self._generator(rng.integers(2**31), device),
            validation_tensors=validation,
            score_fn=score_fn,
            weight_decay=self.weight_decay,
            n_iter_no_change=self.n_iter_no_change if self.early_stopping else None,
            tol=self.tol,
            verbose=bool(self.verbose),
            desc=type(self).__name__,
            history=history,
            **options,
        )
        self.loss_curve_ = list(history.loss_curve)
        self.validation_scores_ = list(history.validation_scores)
        self.n_iter_ = history.n_iter
        self.best_iteration_ = history.best_iteration

    def _continued_history(self) -> TrainingHistory:
        """The recorded history, for a fit that continues it (``warm_start``)."""
        return TrainingHistory(
            list(self.loss_curve_),
            list(self.validation_scores_),
            self.n_iter_,
            self.best_iteration_,
        )

    # -- the network -----------------------------------------------------------------------------

    def _module_on(self, device, name: str = "module_") -> torch.nn.Module:
        """The network ``name`` moved to ``device`` (no-op when it is already there)."""
        setattr(self, name, getattr(self, name).to(device))
        return getattr(self, name)

    def _rebuild(self, state: dict[str, torch.Tensor], name: str = "module_") -> None:
        module = self._build_module(self.module_config_)
        module.load_state_dict(state)
        setattr(self, name, module.eval())

    def _present_modules(self) -> tuple[str, ...]:
        return tuple(name for name in self._fitted_modules if hasattr(self, name))

    def _export_fitted(self):
        names = self._present_modules()
        fitted, arrays = split_fitted(self, skip=names)
        for name in names:
            for key, tensor in state_dict_to_cpu(getattr(self, name)).items():
                arrays[f"{name}/{key}"] = tensor.numpy()
        return fitted, arrays

    def _import_fitted(self, fitted: dict, arrays: dict[str, np.ndarray]):
        states = {name: {} for name in self._fitted_modules}
        attributes = dict(fitted)
        for key, value in arrays.items():
            name, _, param = key.partition("/")
            if name in states and param:
                states[name][param] = torch.from_numpy(np.array(value))
            else:
                attributes[key] = value
        set_fitted(self, attributes)
        for name, state in states.items():
            if state or name == "module_":
                self._rebuild(state, name)
        return self

    def __getstate__(self):
        # object.__getstate__ may hand back the live __dict__: copy before editing.
        state = dict(super().__getstate__())
        for name in self._fitted_modules:
            if name in state:
                state[name] = state_dict_to_cpu(state[name])
        return state

    def __setstate__(self, state):
        state = dict(state)
        module_states = {name: state.pop(name, None) for name in self._fitted_modules}
        super().__setstate__(state)
        for name, module_state in module_states.items():
            if module_state is not None:
                self._rebuild(module_state, name)
