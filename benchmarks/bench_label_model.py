"""The label model's fit: the joint proximal-gradient solve against liblinear, one model at a time.

For each N in ``--sizes``: the default cohort (``bench_speed.py``'s, cached as
Zarr), 80% train, the GWAS panel of ``--n-snps`` SNPs, then the label model
fitted twice, each in its own process (so each peak RSS is its own):

* **liblinear**, the reference: what ``fit_label_model`` did before 2026-12-03
  -- scikit-learn's ``LogisticRegression(penalty="l1", solver="liblinear")``
  once per candidate ``C`` and fold, then once on every training row, on
  float64 standardised dosages;
* **joint**: today's ``fit_label_model`` (every model a column of one float32
  FISTA problem).

Printed per row: fit seconds, peak RSS above the panel's, the chosen ``C``,
the cross-validated log-loss of each candidate, the held-out (20%) log-loss and
AUC of the final model, and the largest difference of held-out case
probabilities between the two.

Usage::

    python benchmarks/bench_label_model.py --sizes 10000,30000 --site-fraction 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc (VmRSS now, VmHWM its peak since exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def liblinear_label_model(G, codes, random_state=0) -> dict:
    """The reference: L1 logistic regressions fitted one at a time by liblinear (two classes)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.utils import check_random_state

    from genosynth.stats._label_model import _CV_FOLDS, CANDIDATE_C, _dosage_moments, _standardise

    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)  # as the joint fit's
    mean, scale = _dosage_moments(G)
    X = _standardise(G, mean, scale)  # float64, as the reference ran

    def fit(C, rows):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = LogisticRegression(
                C=C, penalty="l1", solver="liblinear", max_iter=2000, random_state=seed
            )
            return model.fit(X[rows], codes[rows])

    folding = StratifiedKFold(_CV_FOLDS, shuffle=True, random_state=seed)
    losses = {C: 0.0 for C in CANDIDATE_C}
    for fit_rows, test_rows in folding.split(X, codes):
        for C in CANDIDATE_C:
            p = fit(C, fit_rows).predict_proba(X[test_rows])[
                np.arange(len(test_rows)), codes[test_rows]
            ]
            losses[C] += -np.log(np.clip(p, 1e-15, 1)).sum() / len(X)
    best = min(losses, key=losses.get)
    model = fit(best, np.arange(len(X)))
    return {
        "coef": model.coef_,
        "intercept": model.intercept_,
        "mean": mean,
        "scale": scale,
        "C": best,
        "cv_log_loss": np.array([losses[C] for C in CANDIDATE_C]),
    }


def _panel(n, n_snps, n_variants, seed, cache, site_fraction):
    """Train and held-out panels (int8) and labels, cached as .npz beside the cohort."""
    path = cache / f"label_panel_n{n}_k{n_snps}_s{seed}_sf{site_fraction}.npz"
    if path.exists():
        return dict(np.load(path))
    from bench_speed import _cohort
    from sklearn.model_selection import train_test_split

    from genosynth import GWASSelector
    from genosynth.data._genotypes import as_genotypes

    sf = "auto" if site_fraction == "auto" else float(site_fraction)
    ds = _cohort(n, n_variants, seed, cache, lazy=True, site_fraction=sf)
    y = np.asarray(ds["sample_phenotype"].values)
    idx_tr, idx_ho = train_test_split(np.arange(n), test_size=0.2, stratify=y, random_state=seed)
    gwas = GWASSelector(n_snps=n_snps).fit(ds.isel(samples=idx_tr), y[idx_tr])
    panel = gwas.get_support(indices=True)
    out = {
        "G_tr": as_genotypes(ds.isel(samples=idx_tr, variants=panel))[0].astype(np.int8),
        "G_ho": as_genotypes(ds.isel(samples=idx_ho, variants=panel))[0].astype(np.int8),
        "y_tr": y[idx_tr],
        "y_ho": y[idx_ho],
    }
    np.savez(path, **out)
    return out


def _one(args) -> dict:
    """Fit one solver on a cached panel (run in its own process)."""
    from sklearn.metrics import roc_auc_score

    from genosynth.stats._label_model import fit_label_model, label_probabilities

    data = _panel(args.n, args.n_snps, args.n_variants, args.seed, args.cache, args.site_fraction)
    codes = (data["y_tr"] == data["y_tr"].max()).astype(int)
    before = _status_mb("VmRSS")
    t0 = time.perf_counter()
    if args.solver == "liblinear":
        fitted = liblinear_label_model(data["G_tr"], codes)
    else:
        fitted = fit_label_model(data["G_tr"], codes, 2, random_state=0)
    seconds = time.perf_counter() - t0
    # VmHWM, not ru_maxrss: a child inherits its parent's ru_maxrss across exec.
    peak = _status_mb("VmHWM") - before
    keys = ("coef", "intercept", "mean", "scale")
    p = label_probabilities(data["G_ho"], *(fitted[k] for k in keys))[:, 1]
    case = data["y_ho"] == data["y_tr"].max()
    np.save(args.cache / f"label_proba_{args.solver}_n{args.n}.npy", p)
    return {
        "solver": args.solver,
        "N": args.n,
        "seconds": seconds,
        "peak_mb": peak,
        "C": fitted["C"],
        "cv_log_loss": [round(float(v), 4) for v in fitted["cv_log_loss"]],
        "held_out_log_loss": float(-np.mean(np.log(np.where(case, p, 1 - p)))),
        "held_out_auc": float(roc_auc_score(case, p)),
        "n_nonzero": int((fitted["coef"] != 0).sum()),
        "n_iter": fitted.get("n_iter", ""),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--n-snps", type=int, default=1024)
    parser.add_argument("--n-variants", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--site-fraction", default="auto")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/genosynth-bench-cache"))
    parser.add_argument("--solver", choices=("liblinear", "joint"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.solver:  # a child process: one fit
        print(json.dumps(_one(args)))
        return
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        _panel(n, args.n_snps, args.n_variants, args.seed, args.cache, args.site_fraction)
        for solver in ("liblinear", "joint"):
            cmd = [sys.executable, __file__, "--solver", solver, "--n", str(n)]
            cmd += ["--n-snps", str(args.n_snps), "--n-variants", str(args.n_variants)]
            cmd += ["--seed", str(args.seed), "--site-fraction", args.site_fraction]
            cmd += ["--cache", str(args.cache)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr)
        ref, new = (
            np.load(args.cache / f"label_proba_{s}_n{n}.npy") for s in ("liblinear", "joint")
        )
        rows[-1]["max_proba_diff"] = float(np.abs(ref - new).max())
        rows[-1]["mean_proba_diff"] = float(np.abs(ref - new).mean())
    cols = ["N", "solver", "seconds", "peak_mb", "C", "cv_log_loss", "held_out_log_loss"]
    cols += ["held_out_auc", "n_nonzero", "n_iter", "mean_proba_diff", "max_proba_diff"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        cells = []
        for c in cols:
            v = row.get(c, "")
            cells.append(f"{v:.3f}" if isinstance(v, float) and c != "C" else str(v))
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
