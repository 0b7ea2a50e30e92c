"""The report: escaping, the numbers in the context, the layer table, latexmk and the verdicts.

The result files of a small two-axis study are written here as fixtures (with a diverged cell,
a class name and a title full of LaTeX special characters, and small landscape JSON files),
so these tests need no training run. Compiling with latexmk is skipped where latexmk is missing.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from gridscape.config import load_schema, validate
from gridscape.data.registry import DATASETS
from gridscape.models import build_model
from gridscape.report import augmentations
from gridscape.report.compile import INSTALL_COMMAND, LatexError, compile_pdf, pdf_text
from gridscape.report.context import ReportInputs, build_context
from gridscape.report.latex import escape_latex, format_percent, render, render_string
from gridscape.report.model_summary import forward_check, layer_table
from gridscape.final.resolve import resolve_final
from gridscape.report.steps import run_model_summary

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
TEMPLATES = REPO / "workflow" / "report"
SPECIALS = ["&", "%", "$", "#", "_", "{", "}", "~", "^", "\\"]
INJECTION = r"\input{/etc/passwd}"
TITLE = r"Tiny & friends: 100% {escaped}_test $x^2$ ~ #1 " + INJECTION
CLASS_NAME = "cat&dog_1"
HAVE_LATEX = shutil.which("latexmk") is not None and shutil.which("pdftotext") is not None


def squash(text: str) -> str:
    """pdftotext output without line breaks and repeated spaces (text wraps across lines)."""
    return re.sub(r"\s+", " ", text)


# --- escaping ------------------------------------------------------------------------------


@pytest.mark.parametrize("char", SPECIALS)
def test_escape_leaves_no_active_special_character(char):
    out = escape_latex(f"a{char}b")
    # Every special character is either a command (\textbackslash{}...) or escaped with \.
    stripped = re.sub(r"\\[a-zA-Z]+\{\}|\\[&%$#_{}]", "", out)
    assert not any(c in stripped for c in SPECIALS), out


def test_escape_injection_is_text():
    out = escape_latex(INJECTION)
    assert r"\input" not in out.replace(r"\textbackslash{}input", "")
    assert out == r"\textbackslash{}input\{/etc/passwd\}"


def test_template_delimiters_and_filters():
    text = render_string(r"\BLOCK{for x in xs}\VAR{x|e};\BLOCK{endfor} \VAR{p|pct} \#{dropped}", {"xs": ["a_b", "c&d"], "p": 0.97222})
    assert text.strip() == r"a\_b;c\&d; 97.2\,\%"


@pytest.mark.skipif(not HAVE_LATEX, reason="latexmk or pdftotext is not installed")
def test_escaped_strings_print_literally(tmp_path):
    strings = [f"char{i}:{c}:end" for i, c in enumerate(SPECIALS)] + [INJECTION, TITLE]
    source = (
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n"
        "\\begin{document}\n\\BLOCK{for s in strings}\n\\VAR{s|e}\\par\n\\BLOCK{endfor}\n"
        # Numbers go into text and into math mode alike.
        "\\BLOCK{for x in numbers}\n\\VAR{x|num} $x = \\VAR{x|num}$ \\VAR{x|value} $\\VAR{x|value}$\\par\n\\BLOCK{endfor}\n"
        "\\end{document}\n"
    )
    tex = tmp_path / "escape.tex"
    numbers = [4.42e-5, -0.25, 1.5e7, float("inf"), float("nan"), 12345, 0.001]
    tex.write_text(render_string(source, {"strings": strings, "numbers": numbers}))
    text = pdf_text(compile_pdf(tex))
    for s in strings:
        assert s in squash(text), s


# --- the missing latexmk -------------------------------------------------------------------


def test_missing_latexmk_names_the_install_command(tmp_path):
    tex = tmp_path / "x.tex"
    tex.write_text("\\documentclass{article}\\begin{document}x\\end{document}\n")
    with pytest.raises(LatexError) as info:
        compile_pdf(tex, env={"PATH": ""})
    assert INSTALL_COMMAND in str(info.value)
    assert INSTALL_COMMAND == (
        "apt-get install -y --no-install-recommends texlive-latex-recommended texlive-science latexmk lmodern"
    )


# --- the layer table -----------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["digits", "mnist", "cifar100"])
def test_model_summary_counts_and_shapes(dataset):
    spec = DATASETS[dataset]
    model = build_model({"name": "lenet5", "activation": "relu"}, spec.in_shape, spec.num_classes)
    rows, output = layer_table(model, spec.in_shape)
    assert sum(r.params for r in rows) == sum(p.numel() for p in model.parameters())
    assert tuple(output.shape) == (1, spec.num_classes)
    assert rows[-1].output_shape == f"1x{spec.num_classes}"
    # receptive field and jump per layer: the first 5x5 convolution sees 5 pixels one apart,
    # a fully connected layer the whole image with no jump (tests/test_exercises.py has the rest)
    assert (rows[0].receptive_field, rows[0].jump) == (5, 1)
    assert (rows[-1].receptive_field, rows[-1].jump) == (max(spec.in_shape[1:]), None)
    dicts, check = forward_check(model, spec.in_shape, spec.num_classes)
    assert [(d["receptive_field"], d["jump"]) for d in dicts] == [(r.receptive_field, r.jump) for r in rows]
    assert check["ok"] and check["output_shape"] == [1, spec.num_classes]
    assert check["parameters"] == sum(p.numel() for p in model.parameters())
    assert model.training  # the mode is restored


# --- augmentation verdicts -----------------------------------------------------------------


def test_augmentation_verdicts_depend_on_the_dataset():
    cifar = {v.name: v for v in augmentations.verdicts("cifar10")}
    digits = {v.name: v for v in augmentations.verdicts("digits")}
    assert cifar["hflip"].reasonable and not digits["hflip"].reasonable
    for verdicts in (cifar, digits):
        assert list(verdicts) == list(augmentations.HANDOUT_ORDER)
        assert not verdicts["vflip"].reasonable and not verdicts["rotate90"].reasonable
        assert verdicts["rotate10"].reasonable
    for name in augmentations.DATASET_TRAITS:
        assert len(augmentations.verdicts(name)) == 7


# --- the context and the rendered report, from fixture result files ------------------------

LR = [0.1, 0.01]
MOMENTUM = [0.0, 0.5]


def study_config(landscape=True, dataset="cifar10", **sections) -> dict:
    config = {
        "study": "tiny",
        "title": TITLE,
        "device": "cpu",
        "dataset": {"name": dataset},
        "split": {"val_fraction": 0.2, "seed": 1},
        "train": {"seed": 3, "batch_size": 16, "epochs": 2},
        "search": {
            "axes": [{"key": "optimizer.lr", "values": LR}, {"key": "optimizer.momentum", "values": MOMENTUM}],
            "reason": "The learning rate and momentum, because {braces} & 50% of $budget$ say so.",
        },
        "landscape": {"enabled": landscape, "alpha": {"min": -1.0, "max": 1.0, "num": 3},
                      "beta": {"min": -1.0, "max": 1.0, "num": 3}},
        **sections,
    }
    return validate(config, load_schema(SCHEMA))


def write_results(root: Path, config: dict, on_edge: bool) -> ReportInputs:
    """Result files of a 2 x 2 grid with one diverged cell, as the workflow writes them."""
    n = DATASETS[config["dataset"]["name"]].num_classes
    classes = [CLASS_NAME] + [f"class{i}" for i in range(1, n)]
    (root / "data").mkdir(parents=True)
    pd.DataFrame({"class": classes, "train": [8] * n, "val": [2] * n, "test": [2] * n}).to_csv(
        root / "data" / "class_counts.csv", index=False)
    pd.DataFrame({"index": range(100), "label": [i % 10 for i in range(100)],
                  "subset": ["train"] * 80 + ["val"] * 20}).to_csv(root / "data" / "split.csv", index=False)
    (root / "search").mkdir()
    grid = pd.DataFrame({
        "optimizer.lr": [0.1, 0.1, 0.01, 0.01],
        "optimizer.momentum": [0.0, 0.5, 0.0, 0.5],
        "train_loss": [1.9, float("nan"), 2.1, 2.0],
        "train_acc": [0.40, 0.1, 0.30, 0.35],
        "val_loss": [1.95, float("nan"), 2.15, 2.05],
        "val_acc": [0.45, 0.1, 0.25, 0.30],
        "status": ["ok", "diverged", "ok", "ok"],
        "seconds": [1.0, 0.5, 1.0, 1.0],
    })  # grid.csv's contract columns, as aggregate_grid writes them (no epochs_run)
    grid.to_csv(root / "search" / "grid.csv", index=False)
    best = {
        "params": {"optimizer.lr": 0.1, "optimizer.momentum": 0.0}, "metric": "val_acc", "value": 0.45,
        "higher_is_better": True, "val_loss": 1.95, "val_acc": 0.45, "tied_with": [],
        "on_edge": ["optimizer.lr", "optimizer.momentum"] if on_edge else [],
        "n_cells": 4, "n_diverged": 1, "diverged": [{"optimizer.lr": 0.1, "optimizer.momentum": 0.5}],
        "runner_up": {"params": {"optimizer.lr": 0.01, "optimizer.momentum": 0.5}, "value": 0.30},
        "margin": 0.15000000000000002,
    }
    (root / "search" / "best.json").write_text(json.dumps(best))
    (root / "final").mkdir()
    metrics = {"test_loss": 1.8765, "test_acc": 0.4321, "n_test": 20,
               "params": best["params"], "device": "cpu"}
    (root / "final" / "metrics.json").write_text(json.dumps(metrics))
    pd.DataFrame({"epoch": [1, 2], "train_loss": [2.2, 1.9], "train_acc": [0.2, 0.4],
                  "test_loss": [2.0, 1.8765], "test_acc": [0.3, 0.4321], "seconds": [0.5, 0.5]}).to_csv(
        root / "final" / "history.csv", index=False)
    report = root / "report"
    report.mkdir()
    run_model_summary(resolve_final(config, best, "train+val")["config"], None,
                      str(report / "model_summary.csv"), str(report / "forward_check.json"))
    (root / "benchmarks" / "train_cell").mkdir(parents=True)
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for name, seconds in (("train_final", 3.5), ("train_cell/a", 1.25), ("train_cell/b", 2.0)):
        (root / "benchmarks" / f"{name}.tsv").write_text(header + f"{seconds}\t0:00:03\t800\t1\t1\t1\t0\t0\t50\t2\n")
    landscape = root / "landscape"
    landscape.mkdir()
    directions = {
        "delta_seed": 1, "eta_seed": 2, "normalization": "filter", "ignore": "biasbn",
        "cos_delta_eta": 0.0123, "one_over_sqrt_n": 0.004, "parameters": 62006, "perturbed_parameters": 61770,
        "filters": {
            "features.0.weight": {"shape": [6, 3, 5, 5], "filters": 6, "perturbed": True, "theta_norm": 2.5,
                                  "theta_filter_norm_min": 0.8, "theta_filter_norm_max": 1.2,
                                  "delta_norm": 2.5, "eta_norm": 2.5},
            "features.0.bias": {"shape": [6], "filters": 1, "perturbed": False, "theta_norm": 0.3,
                                "delta_norm": 0.0, "eta_norm": 0.0},
        },
    }
    (landscape / "directions.json").write_text(json.dumps(directions))
    diagnostics = {
        "grid": {"alpha": {"min": -1.0, "max": 1.0, "num": 3}, "beta": {"min": -1.0, "max": 1.0, "num": 3}},
        "centre": {"on_grid": True, "alpha": 0.0, "beta": 0.0, "loss": 1.5, "acc": 0.5},
        "centre_check": {"theta_star_loss": 1.5, "relative_difference": 0.0, "tolerance": 1e-6, "agrees": True},
        "cos_delta_eta": 0.0123,
        "non_finite": {"count": 0, "fraction": 0.0},
        "edges": {"max": 9.0, "mean": 4.5, "min": 3.0},
        "minimum": {"alpha": 0.0, "beta": 0.0, "loss": 1.5, "at_centre": True, "on_edge": False},
        "accuracy": {"min": 0.1, "mean": 0.3, "max": 0.5},
        "timing": {"chunks": [{"chunk": 0, "points": 9, "seconds": 0.9}],
                   "evaluation_seconds_per_chunk": {"mean": 0.9, "max": 0.9}, "total_evaluation_seconds": 0.9,
                   "points_per_evaluation_second": 10.0},
        "method": "loop",
        "data": {"part": "train", "n_images": 100, "subset": False},
    }
    (landscape / "diagnostics.json").write_text(json.dumps(diagnostics))
    pd.DataFrame({"alpha": [-1.0, 0.0, 1.0], "loss": [4.0, 1.5, 5.0], "acc": [0.1, 0.5, 0.1]}).to_csv(
        landscape / "line.csv", index=False)
    pd.DataFrame({"t": [0.0, 0.5, 1.0], "loss": [2.3, 2.0, 1.5], "acc": [0.1, 0.3, 0.5]}).to_csv(
        landscape / "interpolation.csv", index=False)
    return ReportInputs(
        config=config, split=root / "data" / "split.csv", counts=root / "data" / "class_counts.csv",
        grid=root / "search" / "grid.csv", best=root / "search" / "best.json",
        metrics=root / "final" / "metrics.json", history=root / "final" / "history.csv",
        model_summary=report / "model_summary.csv", forward_check=report / "forward_check.json",
        report_dir=report, figures_dir=root / "figures", benchmarks=root / "benchmarks", repo=REPO,
        landscape={"directions": landscape / "directions.json", "diagnostics": landscape / "diagnostics.json",
                   "line": landscape / "line.csv", "interpolation": landscape / "interpolation.csv"},
    )


def write_figures(folder: Path, names) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    for name in names:
        fig.savefig(folder / f"{name}.pdf")
    plt.close(fig)


@pytest.fixture
def study(tmp_path):
    config = study_config()
    return write_results(tmp_path / "results" / "tiny", config, on_edge=True)


def test_context_numbers_match_the_files(study):
    ctx = build_context(study)
    best = json.loads(study.best.read_text())
    metrics = json.loads(study.metrics.read_text())
    assert ctx["search"]["best"]["params"] == best["params"]
    assert ctx["search"]["best"]["value"] == best["value"]
    assert ctx["search"]["margin"] == best["margin"]
    assert ctx["search"]["runner_up"]["value"] == best["runner_up"]["value"]
    assert ctx["final"]["test_acc"] == metrics["test_acc"]
    assert ctx["final"]["test_loss"] == metrics["test_loss"]
    counts = pd.read_csv(study.counts)
    assert ctx["data"]["n_train"] == counts["train"].sum() and ctx["data"]["n_val"] == counts["val"].sum()
    assert ctx["network"]["total"] == json.loads(study.forward_check.read_text())["parameters"]
    table = ctx["search"]["table"]
    assert table[0]["cells"][0]["best"] and table[0]["cells"][0]["val_acc"] == 0.45
    assert table[0]["cells"][1]["diverged"]
    assert [d["params"] for d in ctx["search"]["diverged"]] == best["diverged"]
    assert ctx["search"]["noise"]["images"] == round(best["margin"] * counts["val"].sum())
    assert ctx["landscape"]["cos"] == 0.0123 and ctx["landscape"]["centre_loss"] == 1.5
    times = {t["rule"]: t for t in ctx["provenance"]["rule_times"]}
    assert times["train_cell"]["jobs"] == 2 and math.isclose(times["train_cell"]["total_seconds"], 3.25)


def render_tex(inputs: ReportInputs) -> str:
    return render(TEMPLATES, "report.tex.j2", build_context(inputs))


def test_edge_warning_only_when_best_is_on_the_edge(tmp_path):
    config = study_config()
    on = render_tex(write_results(tmp_path / "on", config, on_edge=True))
    off = render_tex(write_results(tmp_path / "off", config, on_edge=False))
    assert "sits on the edge of the grid" in on and "\\warning{" in on
    assert "sits on the edge of the grid" not in off and "\\warning{" not in off
    assert "inside the grid" in off


def test_rendered_report_escapes_config_and_dataset_strings(study):
    tex = render_tex(study)
    assert r"\input{/etc/passwd}" not in tex
    assert escape_latex(TITLE) in tex
    assert escape_latex(CLASS_NAME) in tex
    assert "diverged" in tex


def augmentation_names() -> list[str]:
    return load_schema(SCHEMA)["properties"]["train"]["properties"]["augmentation"]["items"]["enum"]


@pytest.mark.parametrize("name", augmentation_names())
def test_every_augmentation_the_schema_allows_renders_in_the_report(tmp_path, name):
    config = study_config(figures={"augmentation": name}, train={"seed": 3, "batch_size": 16, "epochs": 2, "augmentation": [name]})
    tex = render_tex(write_results(tmp_path / "r", config, on_edge=False))
    description = escape_latex(augmentations.verdict_of("cifar10", name).description)
    assert f"Figure~\\ref{{fig:augment}} applies one transformation, the {description}" in tex
    assert "\\section{The final model}" in tex and tex.rstrip().endswith("\\end{document}")  # and all after it
    in_handout = name in augmentations.HANDOUT_ORDER
    assert ("It is not among the handout's seven transformations above" in tex) != in_handout


def test_cells_of_other_networks_are_not_said_to_share_initial_weights(tmp_path):
    config = study_config(search={"axes": [{"key": "optimizer.lr", "values": LR}, {"key": "model.activation", "values": ["relu", "tanh"]}],
                                  "reason": "The learning rate and the activation."})
    inputs = write_results(tmp_path / "r", study_config(), on_edge=False)
    inputs = dataclasses.replace(inputs, config=config)
    grid = pd.read_csv(inputs.grid).rename(columns={"optimizer.momentum": "model.activation"})
    grid["model.activation"] = ["relu", "tanh", "relu", "tanh"]
    grid.to_csv(inputs.grid, index=False)
    inputs.best.write_text(inputs.best.read_text().replace('"optimizer.momentum": 0.0', '"model.activation": "relu"').replace(
        '"optimizer.momentum": 0.5', '"model.activation": "tanh"').replace('"optimizer.momentum"', '"model.activation"'))
    tex = " ".join(render_tex(inputs).split())
    assert "Cells with the same layers start from the same initial weights (an axis of the model can change the layers, and with them the weights)" in tex
    assert "Every cell trains the network from the same initial weights" not in tex


def test_the_grid_says_cells_share_initial_weights_only_when_the_seed_is_no_axis(tmp_path):
    same = render_tex(write_results(tmp_path / "same", study_config(), on_edge=False))
    assert "Every cell trains the network from the same initial weights" in same
    seeds = study_config(search={"axes": [{"key": "optimizer.lr", "values": LR}, {"key": "train.seed", "values": [1, 2]}],
                                 "reason": "seed noise"})
    inputs = write_results(tmp_path / "seeds", study_config(), on_edge=False)
    inputs = dataclasses.replace(inputs, config=seeds)
    # the same grid, its second axis the seed
    grid = pd.read_csv(inputs.grid).rename(columns={"optimizer.momentum": "train.seed"})
    grid["train.seed"] = [1, 2, 1, 2]
    grid.to_csv(inputs.grid, index=False)
    text = inputs.best.read_text().replace('"optimizer.momentum": 0.0', '"train.seed": 1').replace(
        '"optimizer.momentum": 0.5', '"train.seed": 2').replace('"optimizer.momentum"', '"train.seed"')
    inputs.best.write_text(text)
    tex = render_tex(inputs)
    assert "same initial weights on the training part" not in tex
    assert "Cells with the same seed start from the same initial weights" in tex


def with_best(inputs: ReportInputs, **fields) -> ReportInputs:
    best = json.loads(inputs.best.read_text())
    inputs.best.write_text(json.dumps({**best, **fields}))
    return inputs


def test_the_choice_is_judged_by_mcnemar_on_the_same_images_and_says_seed_noise_is_unmeasured(tmp_path):
    paired = {"n": 20, "both_right": 5, "only_first": 4, "only_second": 1, "neither": 10, "p_value": 0.375,
              "test": "McNemar, exact two-sided"}
    tex = render_tex(with_best(write_results(tmp_path / "r", study_config(), on_edge=False), paired=paired))
    assert "On the same 20 validation images the two cells disagree on\n5: the chosen cell is right" in tex
    assert "McNemar's exact test" in tex and "$p = 0.38$" in tex
    assert "do not tell the two cells apart" in tex and "can be trusted" not in tex
    assert "Each cell was trained from one seed" in tex and "make \\texttt{train.seed} an axis" in tex
    clear = render_tex(with_best(write_results(tmp_path / "s", study_config(), on_edge=False),
                                 paired={**paired, "only_first": 12, "only_second": 0, "p_value": 0.00049}))
    assert "better beyond the sampling noise of the images" in clear
    # without per-image predictions: the unpaired approximation, said to be one
    old = render_tex(write_results(tmp_path / "u", study_config(), on_edge=False))
    assert "Treating the two\naccuracies as independent (they are not" in old and "McNemar" not in old


def test_the_spread_over_seeds_is_given_when_the_seed_is_an_axis(tmp_path):
    seeds = {"seeds": [1, 2, 3], "values": [0.45, 0.41, 0.43], "mean": 0.43, "std": 0.02}
    tex = render_tex(with_best(write_results(tmp_path / "r", study_config(), on_edge=False), seeds=seeds))
    assert "validation accuracy over its\n3 seeds is 43.0\\,\\% $\\pm$ 2.0 percentage points (mean and" in tex
    assert "Each cell was trained from one seed" not in tex


@pytest.mark.parametrize("train_acc, says", [
    (0.95, "It fits the images it was trained on measurably better than new ones"),
    (0.46, "no overfitting is measurable here"),
    (0.05, "It does measurably worse on its training part than on validation"),
])
def test_the_overfitting_verdict_follows_the_clean_training_accuracy_in_both_directions(tmp_path, train_acc, says):
    inputs = with_best(write_results(tmp_path / "r", study_config(), on_edge=False),
                       train_clean={"loss": 1.0, "acc": train_acc})
    tex = render_tex(inputs)
    assert says in tex and "Evaluated like the validation part (eval mode, no augmentation" in tex
    assert "does not overfit noticeably" not in tex


@pytest.mark.parametrize("losses, barrier", [
    ([2.3, 2.0, 2.0 * (1 + 1e-8), 1.5], False),  # a rise of float noise is no barrier
    ([2.3, 2.0, 2.2, 1.5], True),                 # a rise of 10 % is one
])
def test_a_barrier_on_the_interpolation_is_a_rise_above_evaluation_noise(tmp_path, losses, barrier):
    inputs = write_results(tmp_path / "r", study_config(), on_edge=False)
    pd.DataFrame({"t": [0.0, 1 / 3, 2 / 3, 1.0], "loss": losses, "acc": [0.1, 0.2, 0.3, 0.5]}).to_csv(
        inputs.landscape["interpolation"], index=False)
    tex = render_tex(inputs)
    assert ("crosses at least one barrier" in tex) == barrier
    assert ("no barrier between the initialisation and the solution" in tex) != barrier
    if not barrier:
        assert "the 1 smaller rise it has, at most \\ensuremath{10.0 \\times 10^{-9}}, is below that" in " ".join(tex.split())


def test_the_rise_tolerance_is_ten_times_the_measured_noise_with_a_floor():
    from gridscape.report.landscape_context import FLOAT_NOISE_FLOOR, rise_tolerance

    assert rise_tolerance(1.5, 1.5) == FLOAT_NOISE_FLOOR
    assert rise_tolerance(1.5 * (1 + 1e-5), 1.5) == pytest.approx(1e-4)
    assert rise_tolerance(None, 1.5) == FLOAT_NOISE_FLOOR


def test_a_reason_that_names_none_of_the_axes_is_flagged(tmp_path):
    config = study_config(search={"axes": [{"key": "optimizer.lr", "values": LR}, {"key": "optimizer.momentum", "values": MOMENTUM}],
                                  "reason": "The batch size trades time for accuracy."})
    tex = render_tex(write_results(tmp_path / "r", config, on_edge=False))
    assert "The reason never mentions the learning rate and momentum, which\nare axes of this grid" in tex
    from gridscape.report.search_context import reason_misses

    assert reason_misses("Tuning the LR and the seed.", ["optimizer.lr", "train.seed", "train.epochs"]) == ["number of epochs"]
    assert reason_misses("", ["optimizer.lr"]) == []


@pytest.mark.parametrize("normalization", ["dataset", "none"])
def test_the_data_section_says_how_the_images_were_normalised_and_what_release_was_read(tmp_path, normalization):
    config = study_config(train={"seed": 3, "batch_size": 16, "epochs": 2, "normalization": normalization})
    tex = " ".join(render_tex(write_results(tmp_path / "r", config, on_edge=False)).split())
    standardised = "each channel is standardised with the mean and standard deviation of the training images"
    assert (standardised in tex) == (normalization == "dataset")
    assert ("their pixel values are only scaled to $[0, 1]$" in tex) == (normalization == "none")
    assert "the same images with the same labels as the Python release that \\texttt{torchvision.datasets.CIFAR10} reads" in tex


@pytest.mark.parametrize("rise_alpha, rise_beta, says", [
    (2.0, 2.2, "The basin is about as steep in both directions"),
    (6.0, 1.5, "steeper along $\\delta$"),
])
def test_the_basin_shape_is_computed_from_the_surface(tmp_path, rise_alpha, rise_beta, says):
    inputs = write_results(tmp_path / "r", study_config(), on_edge=False)
    rows = []
    for a in (-1.0, 0.0, 1.0):
        for b in (-1.0, 0.0, 1.0):
            rows.append({"alpha": a, "beta": b, "loss": 1.5 + rise_alpha * a * a + rise_beta * b * b, "acc": 0.3})
    surface = inputs.landscape["diagnostics"].parent / "surface.csv"
    pd.DataFrame(rows).to_csv(surface, index=False)
    inputs = dataclasses.replace(inputs, landscape={**inputs.landscape, "surface": surface})
    tex = " ".join(render_tex(inputs).split())
    assert f"the loss rises by {rise_alpha:.2f} at $|\\alpha| = 1$ along $\\delta$ and by {rise_beta:.2f} at $|\\beta| = 1$" in tex
    assert says in tex
    assert f"a ratio of {rise_alpha / rise_beta:.2g}" in tex


def test_the_handouts_25_values_per_axis_are_read_as_625_points(tmp_path):
    config = study_config(landscape=True)
    config["landscape"]["alpha"]["num"] = config["landscape"]["beta"]["num"] = 25
    tex = " ".join(render_tex(write_results(tmp_path / "r", config, on_edge=False)).split())
    assert "25 per axis make $25 \\times 25 = 625$ points" in tex
    assert "100 points" not in " ".join(render_tex(write_results(tmp_path / "s", study_config(), on_edge=False)).split())


@pytest.mark.parametrize("test_acc, says", [
    (0.4321, "sampling noise of the images explains it"),  # 1.8 points below, the standard error 15.6
    (0.05, "a score used to choose among cells is optimistic"),
    (0.95, "which the larger training set of the retraining can explain"),
])
def test_the_final_test_accuracy_is_set_against_the_noise_of_both_sets(tmp_path, test_acc, says):
    inputs = write_results(tmp_path / "r", study_config(), on_edge=False)
    metrics = json.loads(inputs.metrics.read_text())
    inputs.metrics.write_text(json.dumps({**metrics, "test_acc": test_acc}))
    tex = " ".join(render_tex(inputs).split())
    assert says in tex
    assert "the usual optimism" not in tex and "more data gives a better model" not in tex


def test_a_grid_chosen_by_validation_loss_says_loss_not_accuracy(tmp_path):
    config = study_config(search={"axes": [{"key": "optimizer.lr", "values": LR}, {"key": "optimizer.momentum", "values": MOMENTUM}],
                                  "metric": "val_loss", "reason": "The learning rate and momentum."})
    inputs = write_results(tmp_path / "r", config, on_edge=False)
    best = json.loads(inputs.best.read_text())
    inputs.best.write_text(json.dumps({**best, "metric": "val_loss", "value": 1.95, "higher_is_better": False,
                                       "runner_up": {**best["runner_up"], "value": 2.05}, "margin": 0.1}))
    tex = " ".join(render_tex(inputs).split())
    assert "The best cell by validation loss is" in tex
    assert "of the best loss" in tex and "Treating the two accuracies as independent" not in tex
    assert "the margin is 0.100 in loss" in tex or "in loss" in tex.split("The runner-up")[1][:300]


def test_a_bfloat16_landscape_says_so_and_gives_the_difference_it_makes(tmp_path):
    inputs = write_results(tmp_path / "r", study_config(), on_edge=False)
    plain = " ".join(render_tex(inputs).split())
    assert "bfloat16" not in plain  # float32, as diagnostics without the key were computed
    diagnostics = json.loads(inputs.landscape["diagnostics"].read_text())
    check = {**diagnostics["centre_check"], "relative_difference": 3.2e-4, "tolerance": 1e-2}
    inputs.landscape["diagnostics"].write_text(json.dumps({**diagnostics, "precision": "bfloat16", "centre_check": check}))
    tex = " ".join(render_tex(inputs).split())
    assert "The points were computed in bfloat16 (\\texttt{landscape.precision})" in tex
    assert "tolerance 0.01" in tex and "bfloat16 moves the loss by that relative difference" in tex


def test_landscape_disabled_says_so(tmp_path):
    inputs = write_results(tmp_path / "r", study_config(landscape=False), on_edge=False)
    tex = render_tex(inputs)
    assert "loss landscape is disabled in this study's configuration" in tex
    assert "tab:filters" not in tex and "landscape_contour" not in tex


@pytest.mark.skipif(not HAVE_LATEX, reason="latexmk or pdftotext is not installed")
def test_report_compiles_and_prints_the_numbers(study):
    from gridscape.report.context import LANDSCAPE_FIGURES

    write_figures(study.figures_dir, ["gallery", "class_counts", "grid_val_loss", "grid_val_acc", "curves_grid",
                                      "curves_final", "augmentation", *LANDSCAPE_FIGURES])
    tex = study.report_dir / "report.tex"
    tex.write_text(render_tex(study))
    text = squash(pdf_text(compile_pdf(tex)))
    assert TITLE in text
    assert INJECTION in text
    assert CLASS_NAME in text
    assert format_percent(0.4321).replace("\\,\\%", " %") in text  # test accuracy 43.2 %
    assert "learning rate 0.1, momentum 0.0" in text  # the chosen values
    assert "45.0 %" in text  # the best validation accuracy
    assert "15.0 percentage points" in text  # the margin
    log = (study.report_dir / "report.log").read_text(errors="replace")
    assert "undefined references" not in log and "Overfull" not in log


def test_templates_keep_the_space_after_inline_blocks():
    """With trim_blocks, the newline after a block tag is dropped: a line that has text and
    ends in a block tag would glue its last word to the next line's first word."""
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.tex.j2")):
        lines = path.read_text().splitlines()
        for number, (line, following) in enumerate(zip(lines, lines[1:]), start=1):
            stripped = line.strip()
            ends_in_block = re.search(r"\\BLOCK\{[^}]*\}$", stripped)
            only_blocks = re.fullmatch(r"(\\BLOCK\{[^}]*\}\s*)+", stripped)
            if ends_in_block and not only_blocks and re.match(r"\s*[A-Za-z(\\]", following):
                if not following.strip().startswith("\\BLOCK"):
                    offenders.append(f"{path.name}:{number}: {stripped[-60:]}")
    assert not offenders, "\n".join(offenders)


def test_many_classes_get_a_summary_table(tmp_path):
    inputs = write_results(tmp_path / "r", study_config(landscape=False, dataset="cifar100"), on_edge=False)
    tex = render_tex(inputs)
    assert "Smallest class" in tex and "class99" not in tex
    assert "one hundred" not in tex and "100 classes" in tex.replace("\\,", "")


@pytest.mark.parametrize("activation, pools_first", [("relu", True), ("tanh", False)])
def test_network_section_explains_pooling_before_relu_only_when_the_table_shows_it(tmp_path, activation, pools_first):
    config = study_config()
    config["model"] = {"name": "lenet5", "activation": activation}
    inputs = write_results(tmp_path / activation, config, on_edge=False)
    ctx = build_context(inputs)
    kinds = [row["type"] for row in ctx["network"]["layers"]][:3]
    assert kinds == (["Conv2d", "MaxPool2d", "ReLU"] if pools_first else ["Conv2d", "Tanh", "MaxPool2d"])
    assert ctx["network"]["pool_first"] is pools_first
    assert ("so gridscape pools first" in render_tex(inputs)) is pools_first


def test_a_one_axis_grid_renders_and_names_only_its_axis(tmp_path):
    config = study_config(search={"axes": [{"key": "optimizer.lr", "values": LR}], "reason": "The learning rate."})
    inputs = write_results(tmp_path / "r", config, on_edge=False)
    pd.DataFrame({"optimizer.lr": LR, "train_loss": [1.9, 2.1], "train_acc": [0.4, 0.3], "val_loss": [1.95, 2.15],
                  "val_acc": [0.45, 0.25], "status": ["ok", "ok"], "seconds": [1.0, 1.0]}).to_csv(inputs.grid, index=False)
    best = json.loads(inputs.best.read_text())
    inputs.best.write_text(json.dumps({**best, "params": {"optimizer.lr": 0.1}, "tied_with": [], "on_edge": [],
                                       "n_cells": 2, "n_diverged": 0, "diverged": [],
                                       "runner_up": {"params": {"optimizer.lr": 0.01}, "value": 0.25}, "margin": 0.2}))
    metrics = json.loads(inputs.metrics.read_text())
    inputs.metrics.write_text(json.dumps({**metrics, "params": {"optimizer.lr": 0.1}}))
    tex = " ".join(render_tex(inputs).split())
    choice = tex.split("The best cell by validation accuracy is")[1][:200]
    assert "learning rate" in choice and "momentum" not in choice
    assert "The other hyperparameters keep the values of the configuration" in tex and "momentum" in tex


def test_a_vgg_grid_with_a_landscape_renders_without_lenet_sentences(tmp_path):
    config = study_config(model={"name": "vgg", "num_filters": 8, "num_stages": 2, "blocks_per_stage": 1, "block": "bn"})
    tex = " ".join(render_tex(write_results(tmp_path / "r", config, on_edge=False)).split())
    network = tex.split("\\section{The network}")[1].split("\\section")[0]
    assert "The network is VGG (model \\texttt{vgg} of gridscape's registry): nine convolutional layers and one fully connected layer" in network
    assert "LeNet" not in network and "pools before" not in network
    assert "\\section{The loss landscape of the final model}" in tex
