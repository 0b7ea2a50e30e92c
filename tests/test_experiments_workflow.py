"""The study of named experiments (the MLP coursework 2 kind) through the whole workflow, at a
size that runs in a minute: digits, tiny VGGs, two epochs."""

import math
import subprocess

import pandas as pd
import pytest

from gridscape.experiments import RESULT_COLUMNS
from html_report import check_html_report
from test_workflow import run_snakemake, write_config

STUDY = "tiny-vgg"
LABEL = r"Deep BN+RC & 100% $x$ \input{/etc/passwd}"
RUNS = [
    {"name": "shallow", "label": "Shallow", "set": {"model.blocks_per_stage": 0}},
    {"name": "deep", "label": "Deep"},
    {"name": "deep_bn_rc", "label": LABEL, "set": {"model.block": "bn_rc"}},
]


def experiments_config(**overrides) -> dict:
    config = {
        "study": STUDY,
        "title": "Tiny VGG experiments",
        "device": "cpu",
        "dataset": {"name": "digits"},
        "split": {"val_fraction": 0.2, "seed": 0},
        "model": {"name": "vgg", "num_filters": 4, "num_stages": 2, "blocks_per_stage": 1},
        "optimizer": {"name": "adam", "lr": 0.01, "schedule": "cosine"},
        "train": {"seed": 0, "batch_size": 128, "epochs": 2, "augmentation": ["crop4"]},
        "experiments": {"runs": RUNS},
        "figures": {"gallery_size": 4, "augmentation": "crop4", "gradient_flow_overlay": ["shallow", "deep"]},
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("experiments")
    write_config(workdir, experiments_config())
    proc = run_snakemake(workdir)
    (workdir / "terminal.txt").write_text(proc.stderr)
    return workdir / "results" / STUDY


def test_results_table_has_every_experiment_and_agrees_with_its_history(study):
    table = pd.read_csv(study / "experiments" / "results.csv")
    assert list(table.columns) == list(RESULT_COLUMNS)
    assert list(table["experiment"]) == [run["name"] for run in RUNS]
    assert list(table["label"]) == [run["label"] for run in RUNS]
    shallow, deep, deep_bn = table["parameters"]
    assert shallow < deep < deep_bn  # processing blocks add convolutions, BatchNorm its scales and shifts
    for _, row in table.iterrows():
        history = pd.read_csv(study / "experiments" / row["experiment"] / "history.csv")
        assert list(history["epoch"]) == [1, 2]
        best = int(history["val_acc"].idxmax()) + 1  # the first epoch of the highest accuracy
        assert row["test_epoch"] == best
        for metric in ("train_loss", "train_acc", "val_loss", "val_acc"):
            assert row[metric] == history[metric].iloc[best - 1]
            assert row[f"last_{metric}"] == history[metric].iloc[-1]
        assert history["lr"].iloc[0] == 0.01 and history["lr"].iloc[1] < 0.01  # cosine annealing
        assert 0.0 <= row["test_acc"] <= 1.0


def test_gradient_flow_is_recorded_per_epoch_and_layer(study):
    shallow = pd.read_csv(study / "experiments" / "shallow" / "gradient_flow.csv")
    deep = pd.read_csv(study / "experiments" / "deep_bn_rc" / "gradient_flow.csv")
    # per epoch: entry conv + BatchNorm, 2 stages of blocks (2 convs each, with a BatchNorm each
    # in bn_rc), the linear layer
    assert len(shallow) == 2 * (2 + 2 * 2 + 1)
    assert len(deep) == 2 * (2 + 2 * (2 * 2 + 2 * 2) + 1)
    assert (shallow["mean_abs_grad"] > 0).all()
    assert shallow.groupby("epoch")["order"].apply(list).tolist() == [list(range(7))] * 2


def test_figures_and_report_exist_and_show_the_experiments(study):
    figures = study / "figures"
    names = ["experiments_curves", "gradient_flow_overlay", "gallery", "class_counts", "augmentation",
             "augmentation_training", "weight_histograms"]
    names += [f"gradient_flow/{run['name']}" for run in RUNS]
    for name in names:
        for ext in ("png", "pdf"):
            assert (figures / f"{name}.{ext}").stat().st_size > 1000, name
    text = subprocess.run(["pdftotext", "-layout", str(study / "report" / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Results of the experiments" in text and "Gradient flow" in text
    assert r"Deep BN+RC & 100% $x$ \input{/etc/passwd}" in text  # printed, never run
    table = pd.read_csv(study / "experiments" / "results.csv")
    for acc in table["test_acc"]:
        assert f"{100 * acc:.2f}" in text
    assert f"ln 10 = {math.log(10):.3f}" in text


def test_changing_a_figure_setting_retrains_nothing(study):
    workdir = study.parents[1]
    write_config(workdir, experiments_config(figures={"gallery_size": 4, "augmentation": "crop4",
                                                      "gradient_flow_overlay": ["shallow", "deep_bn_rc"]}))
    try:
        proc = run_snakemake(workdir, "--dry-run")
        assert "plot_gradient_flow_overlay" in proc.stdout
        assert "train_experiment" not in proc.stdout
    finally:
        write_config(workdir, experiments_config())


def test_html_report_shows_every_declared_output(study):
    assert check_html_report(study.parents[1], run_snakemake) == []


def test_the_end_of_run_summary_names_the_best_experiment_by_validation(study):
    summary = (study.parents[1] / "terminal.txt").read_text().split(f"gridscape: {STUDY} finished in ")[1]
    table = pd.read_csv(study / "experiments" / "results.csv")
    best = table[table["status"] == "ok"].sort_values("val_acc", ascending=False, kind="stable").iloc[0]
    assert (f"best experiment by validation accuracy: {best['experiment']} (val_acc {100 * best['val_acc']:.2f} % "
            f"at epoch {int(best['test_epoch'])})") in summary
    assert f"its test accuracy: {100 * best['test_acc']:.2f} %  ({len(table)} experiments in results.csv)" in summary
