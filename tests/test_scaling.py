"""Data-size experiments (NUS CS5242 assignment 2, question 5): per-class subsets from the
training part, epochs of a minimum size, repeats, the clean training accuracy, the scaling
table and what the report reads from it, ResNet-20; and a small study through the workflow."""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pandas as pd
import pytest
import torch

from gridscape.config import ConfigError, validate
from gridscape.data.loader import TensorData
from gridscape.data.split import per_class_subset, stratified_split
from gridscape.kinds.experiments import experiment_runs
from gridscape.models import build_model, count_parameters
from gridscape.scaling import scaling_table, trend
from test_workflow import run_snakemake, write_config


def split_of(n=600, classes=3, seed=0):
    labels = np.random.default_rng(seed).integers(0, classes, n)
    return stratified_split(labels, 0.2, 0)


def test_a_per_class_subset_holds_exactly_that_many_of_each_class_from_the_training_part():
    split = split_of()
    train = set(split.loc[split["subset"] == "train", "index"])
    first, again, other = (per_class_subset(split, 7, seed) for seed in (1, 1, 2))
    labels = split.set_index("index")["label"]
    assert np.bincount(labels[first].to_numpy()).tolist() == [7, 7, 7]
    assert set(first) <= train and len(set(first)) == 21
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    with pytest.raises(ValueError, match="config key train.per_class: 1000 images of class 0"):
        per_class_subset(split, 1000, 0)


def test_an_epoch_of_a_tiny_subset_cycles_it_to_the_minimum_size():
    data = TensorData.from_arrays(np.zeros((10, 1, 4, 4), np.uint8), np.arange(10) % 2, [0.0], [1.0], torch.device("cpu"))
    order = data.shuffled_order(torch.Generator().manual_seed(0), min_size=35)
    assert len(order) == 40  # four fresh passes
    for start in range(0, 40, 10):
        assert sorted(order[start:start + 10].tolist()) == list(range(10))
    assert sum(len(labels) for _, labels in data.batches(8, order=order)) == 40
    # no minimum: the one permutation an epoch always had, draw for draw
    assert torch.equal(data.shuffled_order(torch.Generator().manual_seed(3)), torch.randperm(10, generator=torch.Generator().manual_seed(3)))


def test_repeats_expand_every_run_and_bad_subsets_stop_before_any_job():
    config = validate({"study": "s", "dataset": {"name": "digits"}, "experiments": {
        "repeat": {"key": "train.seed", "values": [0, 1]},
        "runs": [{"name": "n1", "set": {"train.per_class": 1}}, {"name": "all"}]}})
    runs = experiment_runs(config)
    assert [r.name for r in runs] == ["n1-r0", "n1-r1", "all-r0", "all-r1"]
    assert runs[1].params == {"train.per_class": 1, "train.seed": 1}
    bad = [
        ({"study": "s", "dataset": {"name": "digits"}, "experiments": {"runs": [{"name": "a", "set": {"train.per_class": 200}}]}},
         "config key train.per_class: 200 images per class"),
        ({"study": "s", "train": {"per_class": 5}}, "config key train.per_class: a grid search"),
        ({"study": "s", "train": {"min_epoch_size": 100}}, "config key train.min_epoch_size: a grid search"),
        ({"study": "s", "experiments": {"repeat": {"key": "train.seed", "values": [0]},
                                        "runs": [{"name": "a", "set": {"train.seed": 3}}]}}, "experiments.runs[0].set.train.seed"),
        ({"study": "s", "experiments": {"runs": [{"name": "a"}]}, "figures": {"scaling": {"key": "train.per_class"}}},
         "config key figures.scaling: the data-size table gives the mean and spread over repeats"),
        ({"study": "s", "experiments": {"repeat": {"key": "train.seed", "values": [0, 1]}, "runs": [
            {"name": "a", "set": {"train.per_class": 5}}, {"name": "b", "set": {"train.per_class": 5}}]},
          "figures": {"scaling": {"key": "train.per_class"}}}, "expected at least two runs, each with its own amount"),
        ({"study": "s", "model": {"name": "lenet5", "depth": 32}}, "model.depth"),
    ]
    for raw, message in bad:
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
            validate(raw)


def test_resnet20_has_the_papers_parameter_count():
    model = build_model({"name": "resnet", "depth": 20}, (3, 32, 32), 10)
    assert count_parameters(model) == 269_722  # 0.27 M, He et al. 2016, table 6
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert count_parameters(build_model({"name": "resnet", "depth": 56}, (3, 32, 32), 10)) == 853_018


def test_the_scaling_table_groups_repeats_and_the_trend_reads_it():
    results = pd.DataFrame({
        "experiment": ["a-r0", "a-r1", "b-r0", "b-r1"], "status": "ok",
        "n_train": [10, 10, 100, 100], "train_eval_acc": [1.0, 1.0, 0.95, 0.97], "test_acc": [0.4, 0.5, 0.8, 0.82],
    })
    table = scaling_table(results, {"a-r0": 1, "a-r1": 1, "b-r0": None, "b-r1": None}, "train.per_class")
    assert list(table["per_class"]) == [1, "all"] and list(table["runs"]) == [2, 2]
    assert table.loc[0, "gap_mean"] == pytest.approx(0.55) and table.loc[0, "gap_std"] == pytest.approx(np.std([0.6, 0.5], ddof=1))
    shown = trend(table, 10)
    assert shown["grows"] and shown["above_chance"] and shown["gap_shrinks"] and not shown["falls"]
    assert shown["steps"][0]["se"] == pytest.approx(math.sqrt(np.var([0.4, 0.5], ddof=1) / 2 + np.var([0.8, 0.82], ddof=1) / 2))


@pytest.fixture(scope="module")
def scaling_study(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("scaling")
    write_config(workdir, {
        "study": "scale", "device": "cpu", "dataset": {"name": "digits"}, "split": {"val_fraction": 0.1, "seed": 0},
        "optimizer": {"lr": 0.02, "momentum": 0.9},
        "train": {"seed": 0, "batch_size": 64, "epochs": 5, "min_epoch_size": 320},
        "experiments": {"repeat": {"key": "train.seed", "values": [0, 1]}, "runs": [
            {"name": "n1", "set": {"train.per_class": 1}}, {"name": "all"}]},
        "figures": {"gallery_size": 4, "scaling": {"key": "train.per_class"}},
    })
    run_snakemake(workdir)
    return workdir / "results" / "scale"


def test_a_scaling_study_writes_its_subsets_table_figure_and_report(scaling_study):
    folder = scaling_study / "experiments"
    subsets = {name: pd.read_csv(folder / name / "train_indices.csv") for name in ("n1-r0", "n1-r1", "all-r0")}
    assert np.bincount(subsets["n1-r0"]["label"]).tolist() == [1] * 10
    assert not subsets["n1-r0"]["index"].equals(subsets["n1-r1"]["index"])  # each repeat its own subset
    split = pd.read_csv(scaling_study / "data" / "split.csv")
    train = set(split.loc[split["subset"] == "train", "index"])
    assert set(subsets["all-r0"]["index"]) == train
    results = pd.read_csv(folder / "results.csv").set_index("experiment")
    assert results.loc["n1-r1", "n_train"] == 10 and results.loc["all-r0", "n_train"] == len(train)
    history = pd.read_csv(folder / "n1-r0" / "history.csv")
    assert len(history) == 5  # one row per epoch, each epoch 32 passes over the 10 images
    table = pd.read_csv(folder / "scaling.csv")
    assert list(table["n_train"]) == [10, len(train)] and list(table["runs"]) == [2, 2]
    assert table["test_acc_mean"].is_monotonic_increasing
    assert table.loc[0, "test_acc_mean"] > 0.1  # above chance with one image per class
    assert table.loc[0, "gap_mean"] > 0.2  # a tiny training set is fitted far better than the test set
    assert (scaling_study / "figures" / "scaling.pdf").stat().st_size > 1000
    text = subprocess.run(["pdftotext", str(scaling_study / "report" / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Accuracy and the amount of training data" in text
    assert f"{100 * table.loc[0, 'test_acc_mean']:.1f}" in text
