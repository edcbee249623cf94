"""What the torch-backed estimators share: device, seeds, pickling and saving.

A fitted estimator holds its network in ``module_`` and everything needed to
rebuild it in ``module_config_`` (a dict of constructor arguments). Pickles
and model files store the weights as CPU tensors, so a model fitted on a GPU
loads on a machine without one.
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
from genosynth.persistence import set_fitted, split_fitted

_MODULE_PREFIX = "module_/"


class TorchEstimatorMixin:
    """Mixin for estimators whose fitted network lives in ``module_``.

    Subclasses implement ``_build_module(config) -> torch.nn.Module``.
    """

    def _device(self) -> torch.device:
        return resolve_device(self.device)

    @staticmethod
    def _generator(random_state, device) -> torch.Generator:
        """A local generator: randomness never flows through torch's global RNG."""
        return make_generator(seed_from(random_state), device)

    def _module_on(self, device) -> torch.nn.Module:
        """``module_`` moved to ``device`` (no-op when it is already there)."""
        self.module_ = self.module_.to(device)
        return self.module_

    def _rebuild(self, state: dict[str, torch.Tensor]) -> None:
        module = self._build_module(self.module_config_)
        module.load_state_dict(state)
        self.module_ = module.eval()

    def _export_fitted(self):
        fitted, arrays = split_fitted(self, skip=("module_",))
        for key, tensor in state_dict_to_cpu(self.module_).items():
            arrays[_MODULE_PREFIX + key] = tensor.numpy()
        return fitted, arrays

    def _import_fitted(self, fitted: dict, arrays: dict[str, np.ndarray]):
        state, attributes = {}, dict(fitted)
        for key, value in arrays.items():
            if key.startswith(_MODULE_PREFIX):
                state[key[len(_MODULE_PREFIX) :]] = torch.from_numpy(np.array(value))
            else:
                attributes[key] = value
        set_fitted(self, attributes)
        self._rebuild(state)
        return self

    def __getstate__(self):
        # object.__getstate__ may hand back the live __dict__: copy before editing.
        state = dict(super().__getstate__())
        if "module_" in state:
            state["module_"] = state_dict_to_cpu(state["module_"])
        return state

    def __setstate__(self, state):
        state = dict(state)
        module_state = state.pop("module_", None)
        super().__setstate__(state)
        if module_state is not None:
            self._rebuild(module_state)
