"""The template context of an autoencoder study (NUS CS5242 assignment 2, questions 2 and 3).

Every number comes from the result files: ``autoencoders/results.csv``, each run's history,
``mean_latent.json`` and layer table, and ``data/class_counts.csv``. The comparisons (the
latent sizes' test losses, dead code units, the decoded mean code against the mean image) are
computed here; the templates put them into words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from gridscape import io
from gridscape.kinds.autoencoder import AUTOENCODER, run_names

from . import provenance
from .config_text import study_fields
from .data_context import data_context
from .helpers import figure_pdfs, finite

FIGURES = tuple(o.path.removeprefix("figures/") for o in AUTOENCODER.outputs if o.figure and "{" not in o.path)
ARCHITECTURE_NAMES = {"fc": "fully connected", "conv": "convolutional"}


def architecture_rows(results: pd.DataFrame, layers: Mapping[str, pd.DataFrame], mean_latents: Mapping[str, Mapping],
                      config: Mapping) -> list[dict]:
    """Per architecture: its runs (latent size, parameters, losses, dead code units), its layer
    table (of its largest latent size) and the comparison of its smallest and largest sizes."""
    out = []
    for architecture in config["autoencoder"]["architectures"]:
        runs = results[results["architecture"] == architecture].sort_values("latent_size")
        rows = []
        for _, row in runs.iterrows():
            mean = mean_latents.get(str(row["run"]))
            rows.append({
                **{key: row[key] for key in row.index},
                "decoded_distance": None if mean is None else finite(mean.get("decoded_distance_to_mean_image")),
            })
        small, large = (rows[0], rows[-1]) if rows else (None, None)
        comparison = None
        if small is not None and small is not large:
            small_loss, large_loss = finite(small["test_loss"]), finite(large["test_loss"])
            comparison = {
                "small": small, "large": large,
                "ratio": small_loss / large_loss if small_loss is not None and large_loss else None,
                "large_better": small_loss is not None and large_loss is not None and large_loss < small_loss,
            }
        out.append({
            "name": architecture,
            "title": ARCHITECTURE_NAMES.get(architecture, architecture),
            "spec": dict(config["autoencoder"]["architectures"][architecture]),
            "runs": rows,
            "layers": layers[str(rows[-1]["run"])].to_dict("records") if rows else [],
            "comparison": comparison,
            "figure": "",
        })
    return out


def mean_latent_rows(architectures: Sequence[Mapping], chosen: Sequence[str]) -> list[dict]:
    """Per run of the architectures question 3 decodes: the decoded mean code's distance to the
    mean training image, against the median distance of a single test reconstruction."""
    rows = []
    for architecture in architectures:
        if architecture["name"] not in chosen:
            continue
        for run in architecture["runs"]:
            distance, median = run["decoded_distance"], finite(run["test_loss_median"])
            rows.append({"run": run["run"], "latent_size": int(run["latent_size"]), "distance": distance,
                         "median": median,
                         "closer": distance is not None and median is not None and distance < median})
    return rows


def build_autoencoder_context(config: Mapping, counts: Path, results_path: Path, mean_latents: Mapping[str, Path],
                              layers: Mapping[str, Path], common: Mapping) -> dict:
    results = pd.read_csv(results_path, dtype={"run": str, "architecture": str})
    data = data_context(config, pd.read_csv(counts, dtype={"class": str}), {})
    means = {run: io.read_json(path) for run, path in mean_latents.items()}
    architectures = architecture_rows(results, {run: pd.read_csv(path) for run, path in layers.items()}, means, config)
    figures = figure_pdfs([*FIGURES, *(f"ae_{a['name']}" for a in architectures)],
                          common["figures_dir"], common["report_dir"])
    for architecture in architectures:
        architecture["figure"] = figures.get(f"ae_{architecture['name']}", "")
    section = config["autoencoder"]
    first = results.iloc[0] if len(results) else {}
    return {
        **study_fields(config),
        "data": data,
        "autoencoders": architectures,
        "runs": results.to_dict("records"),
        "diverged": [str(r) for r in results.loc[results["status"] != "ok", "run"]],
        "mean_latent": mean_latent_rows(architectures, section["mean_latent"]),
        "section": section,
        "train": config["train"],
        "optimizer": config["optimizer"],
        "epochs": int(config["train"]["epochs"]),
        "n_images": int(first.get("n_train", 0)) if len(results) else 0,
        "figures": figures,
        "provenance": provenance.provenance(
            config, common.get("repo") or Path.cwd(), {"device": str(first.get("device", "not recorded"))},
            common.get("benchmarks") or Path(common["report_dir"]).parent / "benchmarks",
            snakemake_version=common.get("snakemake_version"),
        ),
    }


def context_from_files(inputs: Mapping[str, Any], common: Mapping[str, Any]) -> dict:
    """The autoencoder kind's report context from the render rule's named inputs (see
    ``gridscape.kinds.autoencoder.report_inputs``) and the facts every report shares."""
    config = common["config"]
    runs = run_names(config)
    return build_autoencoder_context(
        config, Path(inputs["counts"]), Path(inputs["results"]), dict(zip(runs, map(Path, inputs["mean_latents"]))),
        dict(zip(runs, map(Path, inputs["layers"]))), common,
    )
