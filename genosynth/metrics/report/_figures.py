"""The diagnostic figure of :meth:`EvaluationReport.plot` (matplotlib, imported on call)."""

from __future__ import annotations

import numpy as np


def diagnostic_figure(d: dict, m: dict, figsize):
    """The eight-panel figure from a report's ``details`` (``d``) and metric values (``m``)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots(2, 4).ravel()
    _scatter(ax[0], d["af_real"], d["af_synthetic"], "alt allele frequency")
    ax[0].set_title(f"Allele frequency (r = {m['af_pearson_r']:.4f})")
    _scatter(ax[1], d["ld_r2_real"], d["ld_r2_synthetic"], "r²")
    ax[1].set_title(f"LD r², nearby pairs (r = {m['ld_r2_correlation']:.3f})")
    decay = d["ld_decay"]
    ax[2].plot(decay["distance_mean"], decay["r2_real"], "o-", label="real")
    ax[2].plot(decay["distance_mean"], decay["r2_synthetic"], "s--", label="synthetic")
    ax[2].set(title="LD decay", xlabel="pair distance", ylabel="mean r²")
    ax[2].legend()
    heat = np.tril(d["ld_heatmap_real"]) + np.triu(d["ld_heatmap_synthetic"], 1)
    im = ax[3].imshow(heat, vmin=0, vmax=1, cmap="Reds", interpolation="nearest")
    ax[3].set_title("LD r²: real (lower) / synthetic (upper)")
    fig.colorbar(im, ax=ax[3], shrink=0.8)
    for name, key, style in (
        ("real", "pca_real", {"s": 4, "alpha": 0.4}),
        ("synthetic", "pca_synthetic", {"s": 4, "alpha": 0.4}),
        ("holdout", "pca_holdout", {"s": 4, "alpha": 0.4, "marker": "x"}),
    ):
        if key in d and d[key].shape[1] >= 2:
            ax[4].scatter(d[key][:, 0], d[key][:, 1], label=name, **style)
    ax[4].set(title="PCA (fitted on real train)", xlabel="PC1", ylabel="PC2")
    ax[4].legend(markerscale=3)
    _scatter(ax[5], d["assoc_beta_real"], d["assoc_beta_synthetic"], "GWAS beta")
    ax[5].set_title(f"Association effects (r = {m['assoc_beta_pearson_r']:.3f})")
    bins = np.histogram_bin_edges(np.r_[d["dcr_synthetic"], d["dcr_holdout"]], bins=40)
    ax[6].hist(d["dcr_holdout"], bins=bins, density=True, alpha=0.5, label="holdout")
    ax[6].hist(d["dcr_synthetic"], bins=bins, density=True, alpha=0.5, label="synthetic")
    ax[6].set(
        title=f"Distance to closest training record (ratio {m['dcr_ratio']:.2f})",
        xlabel="Hamming distance",
        ylabel="density",
    )
    ax[6].legend()
    for prefix, label in (("mia", "distance"), ("domias", "density ratio")):
        fpr, tpr = _roc(d[f"{prefix}_scores"], d["membership"])
        ax[7].plot(fpr, tpr, label=f"{label} (AUC {m[f'{prefix}_auc']:.3f})")
    ax[7].plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax[7].set(
        title="Membership inference", xlabel="false positive rate", ylabel="true positive rate"
    )
    ax[7].legend()
    return fig


def _scatter(ax, real, synthetic, what, max_points=20_000):
    real, synthetic = np.asarray(real), np.asarray(synthetic)
    ok = np.isfinite(real) & np.isfinite(synthetic)
    real, synthetic = real[ok], synthetic[ok]
    if real.size > max_points:  # keep the figure light; the metric uses every point
        keep = np.random.default_rng(0).choice(real.size, max_points, replace=False)
        real, synthetic = real[keep], synthetic[keep]
    ax.scatter(real, synthetic, s=3, alpha=0.3)
    if real.size:
        lo, hi = min(real.min(), synthetic.min()), max(real.max(), synthetic.max())
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls=":")
    ax.set(xlabel=f"real {what}", ylabel=f"synthetic {what}")


def _roc(scores, membership):
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(membership, scores)
    return fpr, tpr
