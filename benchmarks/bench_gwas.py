"""GWASSelector(n_snps=1024).fit from PLINK files against plink2 --glm --threads 2.

Target (issue 3): wall-time ratio genosynth / plink2 <= 1.0 with top-1024 agreement
>= 0.98, on >= 20,000 individuals x >= 40,000 SNPs.

The cohort is simulated once (msprime, liability-threshold binary trait) and written
as PLINK 1 files (A1 = ALT), then every method runs in its own process, interleaved,
``--repeats`` times::

    python benchmarks/bench_gwas.py                        # 20,000 x 40,000
    python benchmarks/bench_gwas.py --n-samples 5000 --n-variants 10000 --repeats 2

Methods
-------
plink2
    ``plink2 --bfile P --glm allow-no-covars hide-covar omit-ref log10 --threads 2``:
    logistic regression of every variant (Firth fallback, plink2's default).
genosynth (read_plink)
    ``GWASSelector(n_snps=1024).fit(genosynth.read_plink(P), y)``: the library's
    lazy sgkit Dataset, streamed block by block.
genosynth (bed-reader array)
    The same ``fit`` on a dask array whose blocks ``bed_reader`` decodes straight
    from the ``.bed`` into int8 dosages (``count_A1=True``: ALT dosages). It is the
    same streaming code path (a dask array is a supported input) with a cheaper
    reader; the gap between the two genosynth rows is the cost of the reader.

Reported per method: median process wall time (startup and imports included, as for
plink2) and median time of the ``fit`` call alone, peak RSS of the process (from
``wait4``), the wall-time ratio to plink2, and the overlap of the 1,024 selected
variants with plink2's 1,024 smallest p-values (both without covariates; ties in
plink2's printed p broken by file order).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

MB = 2**20
N_SNPS = 1024


# --------------------------------------------------------------------------------------
# workers: each runs in a fresh process
# --------------------------------------------------------------------------------------


def _bed_reader_array(prefix: str, chunk: int):
    """A dask array (samples, variants) of int8 ALT dosages, decoded by bed_reader."""
    import dask
    import dask.array as da
    import numpy as np
    from bed_reader import open_bed

    n = sum(1 for _ in open(f"{prefix}.fam"))
    L = sum(1 for _ in open(f"{prefix}.bim"))
    bed = open_bed(f"{prefix}.bed", count_A1=True, iid_count=n, sid_count=L, num_threads=2)

    def load(start, stop):
        block = bed.read(index=np.s_[:, start:stop], dtype=np.int8, order="F")
        block[block == -127] = -1  # bed_reader's int8 missing value
        return block

    blocks = [
        da.from_delayed(
            dask.delayed(load)(s, min(L, s + chunk)),
            shape=(n, min(L, s + chunk) - s),
            dtype=np.int8,
        )
        for s in range(0, L, chunk)
    ]
    return da.concatenate(blocks, axis=1)


def _worker(mode: str, prefix: str, out: str) -> None:
    import warnings

    import numpy as np
    import pandas as pd

    from genosynth import GWASSelector

    warnings.simplefilter("ignore")
    if mode == "dataset":
        from genosynth.io import read_plink

        X = read_plink(prefix)
        y = X["sample_phenotype"].values
    else:
        fam = pd.read_csv(f"{prefix}.fam", sep=r"\s+", header=None)
        y = (fam[5].to_numpy() == 2).astype(np.int8)
        X = _bed_reader_array(prefix, 4096)
    t0 = time.perf_counter()
    sel = GWASSelector(n_snps=N_SNPS).fit(X, y)
    fit = time.perf_counter() - t0
    Path(out).write_text(
        json.dumps({"fit": fit, "selected": sel.get_support(indices=True).tolist()})
    )


# --------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------


def _run(cmd: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak RSS (bytes) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    scale = 1 if sys.platform == "darwin" else 1024
    return wall, usage.ru_maxrss * scale


def _simulate(prefix: str, n_samples: int, n_variants: int, seed: int) -> None:
    from genosynth.datasets import simulate_case_control
    from genosynth.io import write_plink

    ds = simulate_case_control(
        n_samples,
        n_jobs=2,  # chromosomes simulated side by side: the same cohort, sooner
        n_variants=n_variants,
        n_causal=200,
        heritability=0.5,
        prevalence=0.3,
        random_state=seed,
    )
    write_plink(ds, prefix)


def _cohort(workdir: Path, n_samples: int, n_variants: int, seed: int) -> str:
    prefix = workdir / f"cohort_{n_samples}x{n_variants}_s{seed}"
    if not Path(f"{prefix}.bed").exists():
        # In a child process: the driver stays small, so that the peak RSS that wait4
        # reports for each method's child is not the driver's, inherited at fork.
        t0 = time.perf_counter()
        spec = json.dumps([str(prefix), n_samples, n_variants, seed])
        _run([sys.executable, __file__, "--worker", "simulate", "--prefix", spec, "--out", "-"])
        print(f"simulated and wrote {prefix}.bed in {time.perf_counter() - t0:.0f} s")
    return str(prefix)


def _plink2_top(path: str, ids) -> list[str]:
    import pandas as pd

    res = pd.read_csv(path, sep="\t")
    # LOG10_P column with the 'log10' modifier ('P' holds -log10 p in plink2 2.00a3).
    col = "LOG10_P" if "LOG10_P" in res.columns else "P"
    res["order"] = range(len(res))
    res = res.sort_values([col, "order"], ascending=[False, True], kind="stable")
    return res["ID"].iloc[:N_SNPS].tolist()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--n-variants", type=int, default=40_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default="/tmp/genosynth_bench_gwas")
    parser.add_argument(
        "--methods",
        default="plink2,bedreader,dataset",
        help="comma-separated subset of plink2, bedreader, dataset",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "simulate":
        _simulate(*json.loads(args.prefix))
        return
    if args.worker:
        _worker(args.worker, args.prefix, args.out)
        return

    plink2 = shutil.which("plink2")
    methods = args.methods.split(",")
    if "plink2" in methods and plink2 is None:
        sys.exit("plink2 is not installed")
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    prefix = _cohort(workdir, args.n_samples, args.n_variants, args.seed)
    ids = [line.split("\t")[1] for line in open(f"{prefix}.bim")]

    runs = {m: [] for m in methods}
    selected = {}
    for r in range(args.repeats):
        for m in methods:  # interleaved: machine load drifts hit every method alike
            out = workdir / f"{m}.json"
            if m == "plink2":
                cmd = [
                    plink2,
                    "--bfile",
                    prefix,
                    "--glm",
                    "allow-no-covars",
                    "hide-covar",
                    "omit-ref",
                    "log10",
                    "--threads",
                    "2",
                    "--out",
                    str(workdir / "plink2"),
                ]
            else:
                cmd = [
                    sys.executable,
                    __file__,
                    "--worker",
                    m,
                    "--prefix",
                    prefix,
                    "--out",
                    str(out),
                ]
            wall, rss = _run(cmd)
            fit = wall
            if m != "plink2":
                info = json.loads(out.read_text())
                fit = info["fit"]
                selected[m] = {ids[i] for i in info["selected"]}
            runs[m].append((wall, fit, rss))
            print(
                f"run {r + 1} {m:9s} wall {wall:7.1f} s  fit {fit:7.1f} s  "
                f"peak RSS {rss / MB:7.0f} MB",
                flush=True,
            )

    top = None
    if "plink2" in methods:
        top = set(_plink2_top(str(workdir / "plink2.PHENO1.glm.logistic.hybrid"), ids))
    ref = statistics.median(w for w, _, _ in runs["plink2"]) if "plink2" in runs else None
    names = {
        "plink2": "plink2 --glm --threads 2",
        "bedreader": "genosynth, bed-reader array",
        "dataset": "genosynth, read_plink Dataset",
    }
    print(
        f"\n{args.n_samples:,} individuals x {args.n_variants:,} SNPs, "
        f"{args.repeats} interleaved runs (medians; min-max)\n"
    )
    print("| method | process wall | fit call | peak RSS | wall / plink2 | top-1024 agreement |")
    print("|---|---|---|---|---|---|")
    for m in methods:
        walls = [w for w, _, _ in runs[m]]
        fits = [f for _, f, _ in runs[m]]
        rss = statistics.median(r for _, _, r in runs[m])
        ratio = f"{statistics.median(walls) / ref:.2f}" if ref else "-"
        agree = "-" if m == "plink2" or top is None else f"{len(selected[m] & top) / N_SNPS:.3f}"
        fit_txt = "-" if m == "plink2" else f"{statistics.median(fits):.1f} s"
        print(
            f"| {names[m]} | {statistics.median(walls):.1f} s ({min(walls):.1f}-"
            f"{max(walls):.1f}) | {fit_txt} | {rss / MB:,.0f} MB | {ratio} | {agree} |"
        )


if __name__ == "__main__":
    main()
