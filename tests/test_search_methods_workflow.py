"""Random and staged searches of MLPs on the digits through the workflow: every stage's space, plan
and kept trials as files, the nesting of the spaces, each trial's history against its row of
trials.csv, the best trial, the importances, the final model's predictions and the report."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gridscape import io
from gridscape.search.space import columns_of, contains, learning
from test_workflow import run_snakemake, write_config

SPACE = [
    {"key": "train.normalization", "values": ["pixel", "none"]},
    {"key": "train.augmentation", "subsets_of": ["hflip", "rotate10"]},
    {"key": "model.hidden_size", "values": [16, 64]},
    {"key": "model.hidden_layers", "low": 1, "high": 3, "integer": True},
    {"key": "model.activation", "values": ["tanh", "relu"]},
    {"key": "model.dropout", "low": 0.0, "high": 0.5},
    {"key": "optimizer.lr", "low": 0.003, "high": 0.3, "log": True},
]
STAGES = [{"trials": 6, "epochs": 2}, {"trials": 3, "epochs": 3, "keep_top": 0.5}]


@pytest.fixture(scope="module")
def staged_study(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("staged")
    write_config(workdir, {
        "study": "staged", "device": "cpu", "dataset": {"name": "digits"}, "split": {"val_fraction": 0.2, "seed": 0},
        "model": {"name": "mlp", "hidden_layers": 1, "hidden_size": 32},
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
        "train": {"seed": 0, "batch_size": 32, "epochs": 3, "eval_batch_size": 500, "normalization": "pixel"},
        "search": {"method": "staged", "seed": 1, "trials_per_job": 6, "space": SPACE, "stages": STAGES},
        "figures": {"gallery_size": 4, "test_predictions": 6},
        "landscape": {"enabled": False},
    })
    run_snakemake(workdir)
    return workdir / "results" / "staged"


def test_every_stage_draws_inside_its_space_and_the_spaces_nest_around_the_kept_trials(staged_study):
    search = staged_study / "search"
    spaces = [io.read_json(search / "stages" / str(k) / "space.json") for k in (1, 2)]
    plans = [io.read_csv_exact(search / "stages" / str(k) / "plan.csv") for k in (1, 2)]
    trials = io.read_csv_exact(search / "trials.csv")
    assert [len(p) for p in plans] == [6, 3] and list(trials["stage"]) == [1] * 6 + [2] * 3
    for space, plan in zip(spaces, plans):
        for param in space["params"]:
            for _, row in plan.iterrows():
                value = ({m: row[f"{param['key']}.{m}"] for m in param["members"]} if param["type"] == "subsets"
                         else row[param["key"]])
                assert contains(param, value), (space["stage"], param, value)
    first, second = spaces
    for before, after in zip(first["params"], second["params"]):
        if before["type"] in ("float", "int"):
            assert before["low"] <= after["low"] <= after["high"] <= before["high"]
        elif before["type"] == "categorical":
            assert set(after["values"]) <= set(before["values"])
        else:  # a list member fixed before stays fixed the same way
            assert after["fixed"].items() >= before["fixed"].items()
    # stage 2 kept the top half (rounded up) of stage 1's learning trials, by validation accuracy
    stage1 = trials[trials["stage"] == 1]
    learned = stage1[learning(stage1, 10)].sort_values("val_acc", ascending=False, kind="mergesort")
    assert second["kept"] == list(learned["trial"][:math.ceil(0.5 * len(learned))])
    for param in second["params"]:
        kept_rows = stage1.set_index("trial").loc[second["kept"]]
        for trial, row in kept_rows.iterrows():
            value = ({m: row[f"{param['key']}.{m}"] for m in param["members"]} if param["type"] == "subsets"
                     else row[param["key"]])
            assert contains(param, value), (trial, param)
    assert list(trials.columns[:2]) == ["trial", "stage"]
    assert list(trials.columns[2:2 + len(columns_of(first["params"]))]) == columns_of(first["params"])


def test_each_trial_trains_its_stages_epochs_and_its_last_epoch_is_its_row(staged_study):
    trials = io.read_csv_exact(staged_study / "search" / "trials.csv")
    for _, row in trials.iterrows():
        history = io.read_csv_exact(staged_study / "search" / "trials" / row["trial"] / "history.csv")
        metrics = io.read_json(staged_study / "search" / "trials" / row["trial"] / "metrics.json")
        epochs = STAGES[row["stage"] - 1]["epochs"]
        assert len(history) == epochs == row["epochs_run"] or row["status"] == "diverged"
        for column in ("train_loss", "train_acc", "val_loss", "val_acc"):
            assert history[column].iloc[-1] == row[column]
        assert metrics["trial"] == row["trial"] and metrics["stage"] == row["stage"]
        assert abs(metrics["initial_val_loss"] - math.log(10)) < 0.2


def test_the_best_is_the_argmax_of_the_last_stage_and_the_final_model_uses_it(staged_study):
    trials = io.read_csv_exact(staged_study / "search" / "trials.csv")
    best = io.read_json(staged_study / "search" / "best.json")
    last = trials[(trials["stage"] == 2) & (trials["status"] == "ok")]
    assert best["trial"] == last.loc[last["val_acc"].idxmax(), "trial"] and best["value"] == last["val_acc"].max()
    final = io.read_json(staged_study / "final" / "config.json")
    assert final["params"] == best["params"] and final["params"]["train.epochs"] == 3
    assert final["config"]["model"]["hidden_size"] == best["params"]["model.hidden_size"]
    metrics = io.read_json(staged_study / "final" / "metrics.json")
    assert metrics["test_acc"] > 0.85  # measured 0.869 here: an MLP on the digits after 3 epochs


def test_importances_are_shares_and_the_predictions_name_their_classes(staged_study):
    importance = pd.read_csv(staged_study / "search" / "importance.csv")
    assert list(importance.columns) == ["param", "importance", "importance_std", "correlation", "method", "n_trials"]
    assert (importance["importance"] >= 0).all() and importance["importance"].sum() == pytest.approx(1.0)
    assert set(importance["param"]) == {"train.normalization", "train.augmentation.hflip", "train.augmentation.rotate10",
                                        "model.hidden_size", "model.hidden_layers", "model.activation", "model.dropout",
                                        "optimizer.lr"}
    predictions = pd.read_csv(staged_study / "final" / "predictions.csv")
    assert list(predictions.columns) == ["index", "label", "label_name", "predicted", "predicted_name", "probability",
                                         "correct"]
    assert len(predictions) == 6 and predictions["index"].is_unique
    assert (predictions["correct"] == (predictions["label"] == predictions["predicted"])).all()


def test_the_report_describes_the_space_the_stages_and_the_choice(staged_study):
    tex = " ".join((staged_study / "report" / "report.tex").read_text().split())
    best = io.read_json(staged_study / "search" / "best.json")
    assert r"\section{Hyperparameter search}" in tex and r"\section{Grid search}" not in tex
    assert "staged (coarse-{}to-{}fine) random search" in tex
    assert f"\\texttt{{{best['trial']}}}" in tex
    assert r"\label{tab:space}" in tex and r"\label{tab:stages}" in tex and r"\label{tab:importance}" in tex
    assert "ranking is indicative only" in tex  # 9 trials for 8 hyperparameters
    for figure in ("search_parallel", "search_importance", "search_history", "search_stages", "test_predictions"):
        assert (staged_study / "figures" / f"{figure}.png").stat().st_size > 1000


@pytest.fixture(scope="module")
def random_study(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("random")
    write_config(workdir, {
        "study": "random", "device": "cpu", "dataset": {"name": "digits"}, "split": {"val_fraction": 0.2, "seed": 0},
        "model": {"name": "mlp", "hidden_size": 32},
        "train": {"seed": 0, "batch_size": 64, "eval_batch_size": 500},
        "search": {"method": "random", "seed": 3, "trials": 4, "trials_per_job": 4, "metric": "val_loss", "space": [
            {"key": "optimizer.lr", "low": 0.01, "high": 0.2, "log": True},
            {"key": "train.epochs", "values": [1, 2]}]},
        "figures": {"gallery_size": 4, "test_predictions": 0},
        "landscape": {"enabled": False},
    })
    # the LaTeX source is the report's content; its PDF adds nothing to check here
    run_snakemake(workdir, "--omit-from", "compile_report")
    return workdir / "results" / "random"


def test_a_random_search_trains_each_trial_for_its_drawn_epochs_and_picks_the_lowest_loss(random_study):
    trials = io.read_csv_exact(random_study / "search" / "trials.csv")
    plan = io.read_csv_exact(random_study / "search" / "stages" / "1" / "plan.csv")
    assert list(trials["trial"]) == list(plan["trial"]) == [f"s1t00{i}" for i in range(4)]
    assert (trials["stage"] == 1).all() and trials["optimizer.lr"].between(0.01, 0.2).all()
    assert list(trials["epochs_run"]) == list(plan["train.epochs"])
    best = io.read_json(random_study / "search" / "best.json")
    assert best["trial"] == trials.loc[trials["val_loss"].idxmin(), "trial"]
    assert best["params"]["train.epochs"] == int(plan.set_index("trial").loc[best["trial"], "train.epochs"])
    assert not (random_study / "final" / "predictions.csv").exists()  # figures.test_predictions: 0
    tex = " ".join((random_study / "report" / "report.tex").read_text().split())
    assert "with a random search (\\texttt{search.method: random}, seed 3)" in tex
    assert "The search trained four trials on the training part" in tex  # epochs searched: no count
    assert not (random_study / "report" / "report.pdf").exists()
