"""Per-variant association tests between alternate-allele dosage and a trait.

One scan streams the genotypes block of variants by block (never the whole
float matrix) and reports, for every variant, the additive effect of one copy
of the alternate allele, its standard error, a test statistic and a p-value.

Tests
-----
Binary traits (logistic model ``logit P(y=1) = C @ gamma + beta * g``):

* ``"score"`` -- Rao score test against the null model ``y ~ C`` fitted once.
  Its statistic needs only matrix products with the genotype block, so it
  ranks all variants at the cost of a few GEMMs. ``beta`` is the one-step
  estimate ``U / V`` and ``se = 1 / sqrt(V)``.
* ``"wald"`` -- maximum-likelihood fit of the full model per variant by
  iteratively reweighted least squares, vectorised over a batch of variants;
  Wald ``z = beta / se``. This is what ``plink2 --glm`` reports.
* ``"firth"`` -- Firth-penalised likelihood (bias-reduced, always finite),
  used as plink2's ``firth-fallback`` does: when the plain fit diverges,
  i.e. when the genotype separates cases from controls (a zero cell such as
  an allele never seen in cases) or the IRLS does not converge.

Continuous traits: ``"ols"`` -- ordinary least squares with the covariates
projected out, exact t-test on ``n_obs - k - 1`` degrees of freedom (``k``
covariate columns including the intercept), as ``plink2 --glm`` for
quantitative phenotypes.

Missing calls are excluded variant by variant (``n_obs`` counts the calls
used). Without covariates every test is exact on each variant's called
samples; with covariates the score test reuses the full-sample null fit with a
one-step correction for the samples a variant is missing (exact when nothing
is missing), while Wald, Firth and OLS are always exact.

Orientation: ``beta > 0`` means each copy of the alternate allele
(``variant_allele[:, 1]``) raises the trait (log-odds for binary traits).
"""

# Layout, imports one way (each module imports only those above it):
#   _constants      result columns, test codes, the float batch size
#   _pvalues        two-sided p-values on the -log10 scale (normal, Student t)
#   _null_model     the test for y, covariate checks, the design, the null fit
#   _logistic       separation, Wald with Firth fallback: grouped and batched Newton
#   _blocks         one block of variants: counts, score tests, projected OLS
#   _scan           the streaming pass, the candidate buffer, refinement, columns
#   _association_scan   the public function and its DataFrame
# Every name below was importable when genosynth.association was one module, and is
# re-exported so that no importer changes; __all__ is the documented API.
from genosynth.association._association_scan import (  # noqa: F401
    _scan_result,
    association_scan,
    results_frame,
)
from genosynth.association._blocks import (  # noqa: F401
    BlockStats,
    block_statistics,
    grouped_score,
)
from genosynth.association._constants import (  # noqa: F401
    FIRTH,
    OLS,
    RESULT_COLUMNS,
    SCORE,
    TEST_NAMES,
    WALD,
)
from genosynth.association._logistic import (  # noqa: F401
    grouped_logistic,
    logistic_wald,
    separated,
)
from genosynth.association._null_model import (  # noqa: F401
    NullModel,
    check_covariates,
    null_model,
    resolve_test,
)
from genosynth.association._pvalues import (  # noqa: F401
    _neglog10_p_normal,
    _neglog10_p_t,
)
from genosynth.association._scan import (  # noqa: F401
    Candidates,
    ScanResult,
    default_block_size,
    gather_columns,
    refine_candidates,
    scan,
    variants_of,
)

# genosynth.selection imports default_variants from here.
from genosynth.data._genotypes import default_variants  # noqa: F401

__all__ = ["association_scan"]
