"""The LeNet-5 lab's studies: the experiments report picks its sections by what the study
varies and calls a difference noise when the standard error says so; the demo's L1 penalty
gives sparser weights than its weight decay; the lab's configs plan what the lab asks."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from gridscape.config import validate
from gridscape.kinds.experiments import experiment_runs
from gridscape.report.experiments_topics import one_key_pairs, settings_of, smoothness, topics
from gridscape.report.latex import render
from test_workflow import planned_jobs, run_snakemake

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "workflow" / "report"


def lab_config(runs):
    return validate({"study": "lab", "kind": "experiments", "experiments": {"runs": runs}})


def row(name, label, val_acc, stuck=False, **extra):
    return {"name": name, "label": label, "val_acc": val_acc, "last_train_acc": val_acc + 0.05,
            "last_val_acc": val_acc, "stuck": stuck, "initial_train_loss": 2.3026, "initial_val_loss": 2.3027,
            "initial_val_acc": 0.1, "model": {"batch_norm": False, "activation": "relu"}, **extra}


def history(val_accs):
    return pd.DataFrame({"epoch": range(1, len(val_accs) + 1), "train_acc": val_accs, "val_acc": val_accs})


def weight_stats(fractions):
    return pd.DataFrame([{"experiment": name, "parameter": "all", "frac_abs_lt_1e-3": f, "mean_abs": 0.03}
                         for name, f in fractions.items()])


def test_swish_against_relu_by_a_third_of_a_point_on_5000_images_is_noise():
    """The lab's own numbers: Swish 0.6913, ReLU 0.6879, 5,000 validation images."""
    config = lab_config([{"name": "relu"}, {"name": "swish", "set": {"model.activation": "swish"}}])
    rows = [row("relu", "ReLU", 0.6879), row("swish", "Swish", 0.6913)]
    (pair,) = one_key_pairs(rows, settings_of(config, experiment_runs(config)), 5000)
    se = math.sqrt(0.6879 * 0.3121 / 5000 + 0.6913 * 0.3087 / 5000)
    assert pair["key"] == "model.activation" and pair["se"] == pytest.approx(se)
    assert pair["difference"] == pytest.approx(0.0034) and not pair["real"]
    assert abs(pair["z"]) < 0.5
    text = render(TEMPLATES, "sections/experiments/pair.tex.j2", {"p": pair, "topics": {"n_val": 5000}})
    assert "0.3 percentage points\nmore, against a standard error of the difference of 0.9 percentage points" in text
    assert "within the noise of the validation set" in text
    # the lab's augmentation table: 0.6992 against the runner-up 0.6720 is real
    (big,) = one_key_pairs([row("relu", "ReLU", 0.6720), row("swish", "Swish", 0.6992)],
                           settings_of(config, experiment_runs(config)), 5000)
    assert big["real"] and big["z"] > 2.5


def test_only_pairs_that_differ_in_one_setting_are_compared():
    config = lab_config([
        {"name": "l2", "set": {"optimizer.weight_decay": 1e-4}},
        {"name": "l1", "set": {"optimizer.l1": 1e-4}},
        {"name": "base"},
    ])
    rows = [row("l2", "L2", 0.6), row("l1", "L1", 0.61), row("base", "base", 0.62)]
    pairs = one_key_pairs(rows, settings_of(config, experiment_runs(config)), 5000)
    # l1 against l2 changes two settings: not a one-setting comparison
    assert sorted((p["first_name"], p["second_name"], p["key"]) for p in pairs) == [
        ("l1", "base", "optimizer.l1"), ("l2", "base", "optimizer.weight_decay")]


@pytest.mark.parametrize("runs, shown", [
    ([{"name": "a"}, {"name": "b", "set": {"model.init": "kaiming_normal"}}], {"initialisation"}),
    ([{"name": "a"}, {"name": "b", "set": {"model.batch_norm": True}}], {"normalisation"}),
    ([{"name": "a"}, {"name": "b", "set": {"model.activation": "swish"}}], {"normalisation"}),
    ([{"name": "a"}, {"name": "b", "set": {"optimizer.l1": 1e-4}}], {"regularisation"}),
    ([{"name": "a"}, {"name": "b", "set": {"optimizer.lr": 0.1}}], set()),
])
def test_the_report_has_the_sections_of_what_the_study_varies(runs, shown):
    config = lab_config(runs)
    rows = [row("a", "A", 0.6), row("b", "B", 0.61)]
    result = topics(config, experiment_runs(config), rows, {"a": history([0.5, 0.6]), "b": history([0.5, 0.61])},
                    weight_stats({"a": 0.01, "b": 0.02}), 5000, math.log(10))
    assert {name for name, on in result["shown"].items() if on} == shown
    # a change that no section is about is still compared, against the noise
    assert result["other_pairs"] == []  # the rate's pairs go to the discussion
    assert [p["key"] for p in result["pairs_by_key"].get("optimizer.lr", [])] == ([] if shown else ["optimizer.lr"])


def test_the_vgg_story_needs_a_stuck_run_or_a_varied_block():
    config = validate({"study": "v", "model": {"name": "vgg"}, "experiments": {"runs": [
        {"name": "a"}, {"name": "b", "set": {"optimizer.lr": 0.1}}]}})
    args = ({"a": history([0.5, 0.6]), "b": history([0.5, 0.61])}, weight_stats({"a": 0.0, "b": 0.0}), 5000, math.log(10))
    learning = topics(config, experiment_runs(config), [row("a", "A", 0.6), row("b", "B", 0.6)], *args)
    stuck = topics(config, experiment_runs(config), [row("a", "A", 0.01, stuck=True), row("b", "B", 0.6)], *args)
    assert not learning["shown"]["depth"] and stuck["shown"]["depth"]


def test_smoothness_is_the_mean_change_between_epochs_and_sparsity_is_read_from_the_table():
    # the second half only: the climb from 0.1 to 0.9 says how fast a network learns
    assert smoothness(history([0.1, 0.5, 0.9, 0.7, 0.6, 0.65])) == pytest.approx((0.1 + 0.05) / 2)
    assert smoothness(history([0.5, 0.6])) is None  # one epoch in the second half: no change to measure
    from gridscape.report.experiments_topics import smoothness_floor, smoothness_verdicts

    # a model of constant accuracy 0.9 on 144 images moves by about 2.8 points from epoch to epoch
    assert smoothness_floor(0.9, 144) == pytest.approx(math.sqrt(2 / math.pi) * math.sqrt(2 * 0.09 / 144))
    rows = [{"label": "plain", "model": {"batch_norm": False}, "val_acc": 0.9, "smoothness": 0.0108},
            {"label": "bn", "model": {"batch_norm": True}, "val_acc": 0.9, "smoothness": 0.0100}]
    pair = {"first": "plain", "second": "bn"}
    (verdict,) = smoothness_verdicts([pair], rows, 144)
    assert verdict["verdict"] == "same" and verdict["with_bn"] == "bn"  # the demo's 1.08 against 1.00 points
    rows[0]["smoothness"] = 0.08
    assert smoothness_verdicts([pair], rows, 144)[0]["verdict"] == "smoother"
    config = lab_config([{"name": "l2", "set": {"optimizer.weight_decay": 1e-4}},
                         {"name": "l1", "set": {"optimizer.l1": 1e-4}}])
    rows = [row("l2", "L2", 0.6), row("l1", "L1", 0.6)]
    result = topics(config, experiment_runs(config), rows, {"l2": history([0.5, 0.6]), "l1": history([0.5, 0.6])},
                    weight_stats({"l2": 0.02, "l1": 0.3}), 5000, math.log(10))
    assert result["sparsity"]["l1_sparser"] and result["sparsity"]["l1"]["label"] == "L1"
    text = render(TEMPLATES, "sections/experiments/regularisation.tex.j2",
                  {"topics": result, "figures": {"weight_histograms": ""}})
    assert "L1 has 30.00\\,\\% of its weights below\n0.001, more than any run without one" in text
    flipped = topics(config, experiment_runs(config), rows, {"l2": history([0.5, 0.6]), "l1": history([0.5, 0.6])},
                     weight_stats({"l2": 0.3, "l1": 0.02}), 5000, math.log(10))
    assert "the L1 penalty does not give sparser weights" in render(
        TEMPLATES, "sections/experiments/regularisation.tex.j2", {"topics": flipped, "figures": {"weight_histograms": ""}})


def test_the_demos_l1_penalty_gives_sparser_weights_than_its_weight_decay(tmp_path):
    """config/demo-lab-experiments.yaml's l1 and l2 runs, trained as the workflow trains them:
    the frozen penalties (1e-3 each) show the lab's claim on the digits."""
    from gridscape import io
    from gridscape.data import load_prepared, prepare
    from gridscape.data.split import stratified_split
    from gridscape.experiments import run_experiment
    from gridscape.weight_stats import read_weights, weight_stats as stats_of

    config = validate(yaml.safe_load((REPO / "config" / "demo-lab-experiments.yaml").read_text()))
    config["device"] = "cpu"
    prepare("digits", [], tmp_path / "digits.npz")
    data = load_prepared(tmp_path / "digits.npz")
    io.write_csv(tmp_path / "split.csv", stratified_split(data.train_labels, config["split"]["val_fraction"],
                                                           config["split"]["seed"]))
    fractions = {}
    for run in experiment_runs(config):
        if run.name not in ("l1", "l2"):
            continue
        out = tmp_path / run.name
        out.mkdir()
        metrics = run_experiment(config, run, tmp_path / "digits.npz", tmp_path / "split.csv", out / "history.csv",
                                 out / "gradient_flow.csv", out / "model.safetensors", out / "metrics.json")
        assert metrics["val_acc"] > 0.9  # both learn the digits
        assert abs(metrics["initial_val_loss"] - math.log(10)) < 0.05  # default initialisation: near ln 10
        fractions[run.name] = stats_of(read_weights(out / "model.safetensors")).iloc[-1]["frac_abs_lt_1e-3"]
    assert fractions["l1"] > 5 * fractions["l2"]


def test_the_lab_configs_plan_what_the_lab_asks(tmp_path):
    augment = yaml.safe_load((REPO / "config" / "lab-lenet5-augment.yaml").read_text())
    proc = run_snakemake(REPO, "--dry-run", "--configfile", str(REPO / "config" / "lab-lenet5-augment.yaml"),
                         "--directory", str(tmp_path))
    out = proc.stdout + proc.stderr
    assert "train_pack" in planned_jobs(proc)
    assert out.count("rule train_pack:") == 12  # flip p x padding: not fusable, a job per cell
    assert augment["train"]["augmentation"] == ["crop", "hflip"]
    tuning = validate(yaml.safe_load((REPO / "config" / "lab-lenet5-tuning.yaml").read_text()))
    from gridscape.kinds.search import grid_cells
    from gridscape.search.packs import plan_packs
    assert [len(p.cells) for p in plan_packs(tuning, grid_cells(tuning), fuse=True)] == [25]  # one fused job
    experiments = validate(yaml.safe_load((REPO / "config" / "lab-lenet5-experiments.yaml").read_text()))
    settings = {run.name: run.params for run in experiment_runs(experiments)}
    assert settings["final"]["train.epochs"] == 100 and settings["l1"] == {"optimizer.l1": 0.0001}


LAB_RUNS = [
    {"name": "relu", "label": "ReLU"},
    {"name": "kaiming", "label": "Kaiming", "set": {"model.init": "kaiming_normal"}},
    {"name": "bn", "label": "BN", "set": {"model.batch_norm": True}},
    {"name": "l1", "label": "L1", "set": {"optimizer.l1": 0.001}},
]


@pytest.fixture(scope="module")
def lab_study(tmp_path_factory):
    from test_workflow import write_config

    workdir = tmp_path_factory.mktemp("lab")
    write_config(workdir, {
        "study": "lab", "device": "cpu", "dataset": {"name": "digits"}, "split": {"val_fraction": 0.1, "seed": 0},
        "optimizer": {"lr": 0.03, "momentum": 0.9},
        "train": {"seed": 0, "batch_size": 64, "epochs": 8, "augmentation": ["crop"], "crop_padding": 3},
        "experiments": {"runs": LAB_RUNS},
        "figures": {"gallery_size": 4, "augmentation": "crop", "weight_histograms": ["relu", "l1"]},
    })
    run_snakemake(workdir)
    return workdir / "results" / "lab"


def test_a_lab_study_reports_the_sections_of_what_it_varies(lab_study):
    import subprocess

    from gridscape.weight_stats import COLUMNS

    table = pd.read_csv(lab_study / "experiments" / "results.csv")
    assert list(table["parameters"]) == [61_706, 61_706, 61_706 + 452, 61_706]
    default_init = table[table["experiment"] != "kaiming"]
    assert (abs(default_init["initial_val_loss"] - math.log(10)) < 0.05).all()
    stats = pd.read_csv(lab_study / "experiments" / "weight_stats.csv")
    assert list(stats.columns) == ["experiment", *COLUMNS]
    # five weight tensors and the 'all' row per experiment, in the network's order
    assert list(stats[stats["experiment"] == "relu"]["parameter"]) == [
        "features.0.weight", "features.3.weight", "classifier.1.weight", "classifier.3.weight", "classifier.5.weight", "all"]
    for name in ("weight_histograms", "augmentation_training"):
        assert (lab_study / "figures" / f"{name}.pdf").stat().st_size > 1000
    text = subprocess.run(["pdftotext", str(lab_study / "report" / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    for section in ("Initialisation", "Normalisation and activation", "Regularisation: L1 and weight decay"):
        assert section in text
    # every run learns (none at the loss of a uniform guess) and no block varies: no VGG story
    assert (table["last_train_acc"] > 0.5).all()
    assert "a deep network that does not learn" not in text and "residual connections" not in text.lower()
    assert "crop (pad 3)" in text
    assert "standard errors)" in text  # each one-setting comparison is set against the noise


def test_the_studys_notes_are_printed_escaped_and_only_when_given():
    text = render(TEMPLATES, "sections/notes.tex.j2", {"config": {"notes": r"Assumed: SGD & 30 epochs, 100% $x$ \input{y}"}})
    assert r"\paragraph{Assumptions and notes.} Assumed: SGD \& 30 epochs, 100\% \$x\$ \textbackslash{}input\{y\}" in text
    assert "Assumptions" not in render(TEMPLATES, "sections/notes.tex.j2", {"config": {"notes": ""}})
