"""The search analysis (W&B's parameter importance offline, the marginals, the report's facts)
and its figures, on hand-made trials.csv tables with known answers."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridscape.kinds.search_outputs import ANALYSIS_OUTPUTS, has_stages
from gridscape.plots.search_analysis import (
    plot_search_history,
    plot_search_importance,
    plot_search_marginals,
    plot_search_parallel,
    plot_search_stages,
)
from gridscape.search.analysis import (
    IMPORTANCE_COLUMNS,
    MARGINAL_COLUMNS,
    importance,
    marginals,
    merge_spaces,
    read_trials,
    top_facts,
)

ROOT = Path(__file__).resolve().parents[1]

PARAMS = [
    {"key": "optimizer.lr", "type": "float", "low": 1e-4, "high": 0.1, "log": True},
    {"key": "model.dropout", "type": "float", "low": 0.0, "high": 0.8, "log": False},
    {"key": "model.hidden_layers", "type": "int", "low": 1, "high": 4, "log": False},
    {"key": "model.activation", "type": "categorical", "values": ["sigmoid", "tanh", "relu"]},
    {"key": "train.normalization", "type": "categorical", "values": ["pixel", "none"]},
    {"key": "train.batch_size", "type": "categorical", "values": [8, 64, 128]},
    {"key": "train.augmentation", "type": "subsets", "members": ["hflip", "resized_crop", "rotate10"], "fixed": {}},
]
MEMBERS = ["train.augmentation.hflip", "train.augmentation.resized_crop", "train.augmentation.rotate10"]


def trials_table(n=80, seed=0, stages=1, lr_effect=0.1, dropout_effect=0.0, hflip_effect=0.0, noise=0.005):
    """A trials.csv table: every parameter drawn at random; val_acc grows with log10(lr) (by
    ``lr_effect`` per decade), falls with dropout, and moves with hflip; rotate10 is never on."""
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(-4, -1, n)
    dropout = rng.uniform(0, 0.8, n)
    hflip = rng.random(n) < 0.5
    table = pd.DataFrame({
        "trial": [f"s{1 + i * stages // n}t{i:03d}" for i in range(n)],
        "stage": [1 + i * stages // n for i in range(n)],
        "optimizer.lr": lr,
        "model.dropout": dropout,
        "model.hidden_layers": rng.integers(1, 5, n),
        "model.activation": rng.choice(["sigmoid", "tanh", "relu"], n),
        "train.normalization": rng.choice(["pixel", "none"], n),
        "train.batch_size": rng.choice([8, 64, 128], n),
        "train.augmentation.hflip": hflip,
        "train.augmentation.resized_crop": rng.random(n) < 0.5,
        "train.augmentation.rotate10": np.zeros(n, bool),
    })
    acc = (0.6 + lr_effect * (np.log10(lr) + 2.5) - dropout_effect * dropout + hflip_effect * hflip
           + noise * rng.standard_normal(n))
    table["train_loss"] = 1.0 - acc
    table["train_acc"] = acc
    table["val_loss"] = 1.2 - acc
    table["val_acc"] = acc
    table["status"] = "ok"
    table["seconds"] = 1.0
    table["epochs_run"] = 2
    return table


def with_failures(table):
    """Two diverged trials (one without a metric, one with a poor one) and an ok trial whose
    metric is missing."""
    table = table.copy()
    table.loc[3, ["status", "val_acc", "val_loss"]] = ["diverged", math.nan, math.nan]
    table.loc[7, ["status", "val_acc", "val_loss"]] = ["diverged", 0.1, 2.3]
    table.loc[11, ["val_acc", "val_loss"]] = [math.nan, math.nan]
    return table


def row(table, param):
    return table.set_index("param").loc[param]


# --------------------------------------------------------------------------- importance


def test_only_the_learning_rate_matters_and_ranks_first():
    table = importance(trials_table(), PARAMS, "val_acc", seed=0)
    assert list(table.columns) == list(IMPORTANCE_COLUMNS)
    assert table["param"].iloc[0] == "optimizer.lr"
    assert table["importance"].iloc[0] > 0.6
    assert (table["importance"].iloc[1:] < 0.2).all()
    assert (table["method"] == "random_forest").all()
    # one row per searched column: a list member per column, no metric or bookkeeping column
    assert sorted(table["param"]) == sorted(["optimizer.lr", "model.dropout", "model.hidden_layers", "model.activation",
                                              "train.normalization", "train.batch_size", *MEMBERS])


def test_importances_are_non_negative_sum_to_one_and_sorted():
    table = importance(with_failures(trials_table(dropout_effect=0.05)), PARAMS, "val_acc", seed=3)
    assert (table["importance"] >= 0).all()
    assert table["importance"].sum() == pytest.approx(1.0)
    assert (table["importance_std"] >= 0).all()
    assert list(table["importance"]) == sorted(table["importance"], reverse=True)


def test_correlation_signs_follow_the_metric():
    trials = trials_table(dropout_effect=0.3)
    acc = importance(trials, PARAMS, "val_acc", seed=0)
    assert row(acc, "optimizer.lr")["correlation"] > 0.6  # accuracy grows with log10(lr)
    assert row(acc, "model.dropout")["correlation"] < -0.45  # and falls with dropout
    loss = importance(trials, PARAMS, "val_loss", seed=0)  # correlation with the loss as is
    assert row(loss, "optimizer.lr")["correlation"] < -0.6
    assert row(loss, "model.dropout")["correlation"] > 0.45
    assert acc["correlation"].dropna().between(-1, 1).all()


def test_list_members_are_columns_and_a_member_never_varied_scores_zero():
    table = importance(trials_table(lr_effect=0.0, hflip_effect=0.1), PARAMS, "val_acc", seed=0)
    assert table["param"].iloc[0] == "train.augmentation.hflip"
    assert row(table, "train.augmentation.hflip")["correlation"] > 0.9
    rotate = row(table, "train.augmentation.rotate10")  # always off: fixed in every stage
    assert rotate["importance"] == 0 and math.isnan(rotate["correlation"])


def test_correlation_of_categoricals():
    trials = trials_table()
    # normalization decides: 'none' (the second value) is better
    trials["val_acc"] = 0.5 + 0.1 * (trials["train.normalization"] == "none") + 0.01 * np.sin(np.arange(len(trials)))
    table = importance(trials, PARAMS, "val_acc", seed=0)
    assert math.isnan(row(table, "model.activation")["correlation"])  # three names: no order
    assert row(table, "train.normalization")["correlation"] > 0.9  # two values: an indicator
    assert math.isfinite(row(table, "train.batch_size")["correlation"])  # numbers: their values
    assert table["param"].iloc[0] == "train.normalization"


def test_a_categorical_with_one_value_scores_zero():
    trials = trials_table()
    trials["model.activation"] = "relu"
    table = importance(trials, PARAMS, "val_acc", seed=0)
    assert row(table, "model.activation")["importance"] == 0
    assert math.isnan(row(table, "model.activation")["correlation"])


def test_same_seed_same_table_other_seed_other_forest():
    trials = with_failures(trials_table(dropout_effect=0.05))
    first = importance(trials, PARAMS, "val_acc", seed=7)
    pd.testing.assert_frame_equal(first, importance(trials, PARAMS, "val_acc", seed=7))
    other = importance(trials, PARAMS, "val_acc", seed=8)
    assert not np.allclose(first.sort_values("param")["importance"], other.sort_values("param")["importance"])


def test_only_ok_trials_with_a_metric_count():
    trials = with_failures(trials_table())
    table = importance(trials, PARAMS, "val_acc", seed=0)
    assert (table["n_trials"] == len(trials) - 3).all()
    assert table["param"].iloc[0] == "optimizer.lr"


@pytest.mark.parametrize("keep", [0, 1])
def test_fewer_than_two_trials_give_nan_importances(keep):
    trials = trials_table(n=5)
    trials.loc[keep:, "status"] = "diverged"
    table = importance(trials, PARAMS, "val_acc", seed=0)
    assert len(table) == 9 and (table["n_trials"] == keep).all()
    assert table["importance"].isna().all() and table["correlation"].isna().all()


def test_stages_compare_within_their_stage():
    """Later stages train longer: a parameter whose values differ by stage must not look
    important because of the stages' offsets."""
    trials = trials_table(n=90, stages=3, lr_effect=0.02, noise=0.002)
    stage = trials["stage"].to_numpy()
    trials["train.batch_size"] = np.array([8, 64, 128])[stage - 1]  # one value per stage
    trials["val_acc"] = trials["val_acc"] + 0.2 * (stage - 1)  # more epochs, higher accuracy
    table = importance(trials, PARAMS, "val_acc", seed=0)
    assert table["param"].iloc[0] == "optimizer.lr"
    assert row(table, "train.batch_size")["importance"] < 0.1


def test_merge_spaces_keeps_a_member_fixed_only_where_every_stage_fixes_it():
    stage1 = {"stage": 1, "params": [{**PARAMS[6], "fixed": {"rotate10": False}}, PARAMS[0]]}
    stage2 = {"stage": 2, "params": [{**PARAMS[6], "fixed": {"rotate10": False, "hflip": True}},
                                     {**PARAMS[0], "low": 0.001, "high": 0.01}]}
    merged = merge_spaces([stage2, stage1])
    assert merged[0]["fixed"] == {"rotate10": False}
    assert (merged[1]["low"], merged[1]["high"]) == (1e-4, 0.1)  # the first stage's (whole) range


def test_read_trials_keeps_category_names_pandas_would_drop(tmp_path):
    path = tmp_path / "trials.csv"
    path.write_text("trial,stage,train.normalization,model.activation,train.augmentation.hflip,val_acc,status\n"
                    "s1t000,1,none,NA,True,nan,diverged\ns1t001,1,pixel,relu,False,0.5,ok\n")
    trials = read_trials(path)
    assert list(trials["train.normalization"]) == ["none", "pixel"]
    assert list(trials["model.activation"]) == ["NA", "relu"]
    assert math.isnan(trials["val_acc"].iloc[0]) and trials["val_acc"].iloc[1] == 0.5


# --------------------------------------------------------------------------- marginals and facts


def test_marginals_count_every_ok_trial_once_per_parameter():
    trials = with_failures(trials_table())
    table = marginals(trials, PARAMS, "val_acc")
    assert list(table.columns) == list(MARGINAL_COLUMNS)
    counts = table.groupby("param")["n"].sum()
    assert len(counts) == 9 and (counts == len(trials) - 3).all()
    assert (table["best_metric"] >= table["mean_metric"] - 1e-12).all()  # best accuracy: the highest
    loss = marginals(trials, PARAMS, "val_loss")
    assert (loss["best_metric"] <= loss["mean_metric"] + 1e-12).all()  # best loss: the lowest


def test_marginals_bin_floats_by_quartile_and_list_values_in_config_order():
    table = marginals(trials_table(), PARAMS, "val_acc")
    lr = table[table["param"] == "optimizer.lr"]
    assert len(lr) == 4 and set(lr["n"]) <= {19, 20, 21}
    assert all(v.startswith("[") and v.endswith(")") for v in lr["value"].iloc[:3]) and lr["value"].iloc[3].endswith("]")
    low = float(lr["value"].iloc[0][1:].split(",")[0])
    assert 1e-4 <= low < 2e-4
    assert list(lr["mean_metric"]) == sorted(lr["mean_metric"])  # accuracy grows with the lr
    assert list(table[table["param"] == "model.activation"]["value"]) == ["sigmoid", "tanh", "relu"]
    assert list(table[table["param"] == "model.hidden_layers"]["value"]) == ["1", "2", "3", "4"]
    assert list(table[table["param"] == "train.batch_size"]["value"]) == ["8", "64", "128"]
    assert list(table[table["param"] == "train.augmentation.rotate10"]["value"]) == ["false"]


def test_top_facts_name_the_best_and_worst_value():
    trials = trials_table()
    facts = top_facts(importance(trials, PARAMS, "val_acc", seed=0), marginals(trials, PARAMS, "val_acc"), "val_acc")
    lr = facts[0]
    assert lr.param == "optimizer.lr"
    assert lr.best_value.endswith("]") and lr.worst_value.startswith("[0.0001")
    assert lr.best_mean > lr.worst_mean and lr.difference == pytest.approx(lr.best_mean - lr.worst_mean)
    assert "optimizer.lr in" in lr.text and "percentage points" in lr.text and "\\" not in lr.text
    loss = top_facts(importance(trials, PARAMS, "val_loss", seed=0), marginals(trials, PARAMS, "val_loss"), "val_loss")
    assert loss[0].best_mean < loss[0].worst_mean and "lower" in loss[0].text


# --------------------------------------------------------------------------- figures


def written(info):
    assert [p.suffix for p in info.paths] == [".png", ".pdf"]
    for path in info.paths:
        assert path.stat().st_size > 1000, path
    assert info.paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert info.paths[1].read_bytes()[:5] == b"%PDF-"
    return info


def spaces_of(stages):
    spaces = [{"stage": 1, "epochs": 1, "trials": 30, "keep_top": None, "from_stage": None, "kept": [], "params": PARAMS}]
    for k in range(2, stages + 1):
        spaces.append({"stage": k, "epochs": 3 * k, "trials": 30, "keep_top": 0.25, "from_stage": k - 1, "kept": ["s1t001"],
                       "params": [{**PARAMS[0], "low": 10 ** -(4 - k), "high": 0.1}, {**PARAMS[1], "high": 0.8 / k},
                                  {**PARAMS[2], "low": k}, {**PARAMS[3], "values": ["relu"]}, PARAMS[4], PARAMS[5],
                                  {**PARAMS[6], "fixed": {"rotate10": False}}]})
    return spaces


def paths(tmp_path, name):
    return [tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"]


@pytest.mark.parametrize("stages", [1, 3])
def test_figures_are_written_with_failures_and_stages(tmp_path, stages):
    trials = with_failures(trials_table(n=45, stages=stages))
    spaces = spaces_of(stages)
    params = merge_spaces(spaces)
    best = trials["trial"].iloc[-1]
    parallel = written(plot_search_parallel(trials, params, "val_acc", paths(tmp_path, "parallel"), best=best))
    assert parallel.notes["diverged"] == 2 and parallel.notes["best_drawn"]
    assert parallel.notes["earlier"] == (0 if stages == 1 else 30 - 2)  # the two diverged are drawn as such
    table = importance(trials, params, "val_loss", seed=0)
    written(plot_search_importance(table, "val_loss", paths(tmp_path, "importance")))
    history = written(plot_search_history(trials, "val_acc", paths(tmp_path, "history"), best=best, spaces=spaces))
    assert history.notes["stages"] == list(range(1, stages + 1))
    marg = written(plot_search_marginals(trials, params, "val_acc", paths(tmp_path, "marginals")))
    assert marg.notes["panels"] == 9 and marg.notes["trials"] == 42
    if stages > 1:
        written(plot_search_stages(spaces, paths(tmp_path, "stages"), trials=trials))


def test_figures_of_one_trial_without_a_metric(tmp_path):
    trials = trials_table(n=1)
    trials.loc[0, ["val_acc", "status"]] = [math.nan, "diverged"]
    written(plot_search_parallel(trials, PARAMS, "val_acc", paths(tmp_path, "parallel"), best=None))
    written(plot_search_history(trials, "val_acc", paths(tmp_path, "history")))
    written(plot_search_marginals(trials, PARAMS, "val_acc", paths(tmp_path, "marginals")))
    written(plot_search_importance(importance(trials, PARAMS, "val_acc", 0), "val_acc", paths(tmp_path, "importance")))


def test_figures_of_a_one_axis_grid_with_long_names(tmp_path):
    """A grid writes trials.csv too: cell names as trials, one stage, the axis as a categorical."""
    long = ["a_rather_long_activation_name_" + str(i) for i in range(3)]
    params = [{"key": "model.activation_with_a_long_key_name", "type": "categorical", "values": long}]
    trials = pd.DataFrame({"trial": [f"model.activation~{v}" for v in long], "stage": 1,
                           "model.activation_with_a_long_key_name": long, "val_acc": [0.5, 0.7, 0.6],
                           "val_loss": [1.0, 0.8, 0.9], "status": "ok"})
    best = trials["trial"].iloc[1]
    assert written(plot_search_parallel(trials, params, "val_loss", paths(tmp_path, "parallel"), best=best)).notes["best_drawn"]
    written(plot_search_history(trials, "val_loss", paths(tmp_path, "history"), best=best))
    written(plot_search_marginals(trials, params, "val_loss", paths(tmp_path, "marginals")))
    table = importance(trials, params, "val_loss", seed=0)
    assert table["importance"].tolist() == [1.0]
    written(plot_search_importance(table, "val_loss", paths(tmp_path, "importance")))


def test_figures_of_many_parameters(tmp_path):
    rng = np.random.default_rng(0)
    params = [{"key": f"model.p{i:02d}", "type": "float", "low": 0.0, "high": 1.0, "log": False} for i in range(14)]
    trials = pd.DataFrame({p["key"]: rng.random(40) for p in params})
    trials.insert(0, "trial", [f"s1t{i:03d}" for i in range(40)])
    trials["stage"] = 1
    trials["val_acc"] = trials["model.p03"] + 0.01 * rng.random(40)
    trials["status"] = "ok"
    table = importance(trials, params, "val_acc", seed=0)
    assert table["param"].iloc[0] == "model.p03"
    written(plot_search_parallel(trials, params, "val_acc", paths(tmp_path, "parallel")))
    written(plot_search_importance(table, "val_acc", paths(tmp_path, "importance")))
    assert written(plot_search_marginals(trials, params, "val_acc", paths(tmp_path, "marginals"))).notes["panels"] == 14


# --------------------------------------------------------------------------- declarations, imports


def test_the_stages_figure_is_declared_for_staged_search_only():
    staged = {"search": {"method": "staged", "stages": [{"trials": 4, "epochs": 1}, {"trials": 2, "epochs": 2}]}}
    assert has_stages(staged)
    assert not has_stages({"search": {"method": "random", "trials": 8}})
    assert not has_stages({"search": {"method": "staged", "stages": [{"trials": 4, "epochs": 1}]}})
    assert not has_stages({"search": {"axes": []}})
    paths = {output.path for output in ANALYSIS_OUTPUTS}
    assert {"search/importance.csv", "search/marginals.csv", "search/parallel.html", "figures/search_parallel",
            "figures/search_importance",
            "figures/search_history", "figures/search_marginals", "figures/search_stages"} == paths
    for output in ANALYSIS_OUTPUTS:
        assert (ROOT / "workflow" / "report" / f"{output.caption}.rst").is_file(), output.path


def test_rule_file_names_its_declared_outputs_and_scripts():
    text = (ROOT / "workflow" / "rules" / "search_analysis.smk").read_text()
    for output in ANALYSIS_OUTPUTS:
        assert f'declared("{output.path}")' in text, output.path
    assert '"../scripts/search_analysis.py"' in text and (ROOT / "workflow" / "scripts" / "search_analysis.py").is_file()


def test_analysis_and_its_figures_do_not_import_torch():
    code = ("import sys; import gridscape.search.analysis, gridscape.plots.search_analysis; "
            "import gridscape.kinds.search_outputs; print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
