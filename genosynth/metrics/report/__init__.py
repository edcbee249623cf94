"""One call to judge a synthetic cohort: :func:`evaluate` and its :class:`EvaluationReport`.

The protocol (docs/user_guide/privacy_protocol.rst): real individuals are split
into train and holdout before anything is fitted; the generator sees only
train; the synthetic cohort is compared with train (fidelity), used to train
models scored on the holdout (utility), and checked for closeness to train
using the holdout as the yardstick of an unseen person (privacy).

Modules, by concern: ``_targets`` (what each metric should be: ideal values,
targets, verdicts), ``_report`` (:class:`EvaluationReport`, its table and text
summary), ``_figures`` (the diagnostic figure), ``_steps`` (reading the cohorts
and one step per metric family) and ``_evaluate`` (:func:`evaluate`).
"""

# The names importers use from genosynth.metrics.report, which was one module; __all__
# is the documented API.
from genosynth.metrics.report._evaluate import evaluate
from genosynth.metrics.report._report import EvaluationReport
from genosynth.metrics.report._targets import GROUPS, _meets  # noqa: F401


def _prs_classifier():
    """A new :class:`~genosynth.prs.PRSClassifier`, the second model of :func:`evaluate`'s TSTR.

    genosynth.prs belongs to the association layer, which metrics may not import;
    this is the one exception (listed in tests/test_architecture.py under this
    module's name). Imported on call, so importing metrics does not import it.
    """
    from genosynth.prs import PRSClassifier

    return PRSClassifier()


__all__ = ["GROUPS", "EvaluationReport", "evaluate"]
