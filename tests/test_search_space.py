"""Random and staged search's space: drawing a plan, narrowing it around the kept trials, the
best trial, and the config checks that stop a bad space before any job."""

import math

import numpy as np
import pandas as pd
import pytest

from gridscape.config import ConfigError, validate
from gridscape.kinds import KINDS
from gridscape.search.best import SearchError
from gridscape.search.space import (
    columns_of, contains, draw_plan, kept_trials, narrow, on_edge, parameters_of, plan_stage, run_params,
)
from gridscape.search.trial_table import all_trials, choose_best_trial, stage_table

SPACE = [
    {"key": "optimizer.lr", "low": 1e-4, "high": 0.1, "log": True},
    {"key": "optimizer.momentum", "low": 0.0, "high": 0.9},
    {"key": "train.batch_size", "low": 8, "high": 128, "integer": True},
    {"key": "model.activation", "values": ["sigmoid", "tanh", "relu"]},
    {"key": "train.augmentation", "subsets_of": ["hflip", "rotate10", "shift5"]},
]


def staged(**search):
    return {"study": "s", "dataset": {"name": "digits"}, "landscape": {"enabled": False},
            "search": {"method": "staged", "space": SPACE,
                       "stages": [{"trials": 12, "epochs": 1}, {"trials": 6, "epochs": 3, "keep_top": 0.25}], **search}}


def results_for(plan: pd.DataFrame, params, stage: int, score) -> pd.DataFrame:
    """A stage's trials.csv where val_acc is ``score`` of each trial's settings."""
    metrics = []
    for _, row in plan.iterrows():
        acc = score(run_params(params, row))
        metrics.append({"trial": row["trial"], "train_loss": 1.0, "train_acc": acc, "val_loss": 1 - acc, "val_acc": acc,
                        "status": "ok" if acc == acc else "diverged", "seconds": 0.5, "epochs_run": stage})
    space = {"stage": stage, "params": params}
    return stage_table(space, plan, metrics)


def test_a_plan_draws_every_value_inside_its_space_and_the_same_seed_draws_the_same_plan():
    params = parameters_of(SPACE)
    plan = draw_plan(params, 200, seed=3, stage=1)
    assert list(plan.columns) == ["trial", "optimizer.lr", "optimizer.momentum", "train.batch_size", "model.activation",
                                  "train.augmentation.hflip", "train.augmentation.rotate10", "train.augmentation.shift5"]
    assert list(plan["trial"][:2]) == ["s1t000", "s1t001"]
    assert plan["optimizer.lr"].between(1e-4, 0.1).all() and plan["optimizer.momentum"].between(0, 0.9).all()
    # log-uniform: about half the draws below the geometric middle 10^-2.5, not a few percent
    assert 0.35 < (plan["optimizer.lr"] < 10 ** -2.5).mean() < 0.65
    assert set(plan["train.batch_size"]) <= set(range(8, 129)) and plan["train.batch_size"].map(type).eq(int).all()
    assert set(plan["model.activation"]) == {"sigmoid", "tanh", "relu"}
    assert 0.35 < plan["train.augmentation.hflip"].mean() < 0.65
    pd.testing.assert_frame_equal(plan, draw_plan(params, 200, seed=3, stage=1))
    assert not plan.equals(draw_plan(params, 200, seed=4, stage=1))
    assert not plan["optimizer.lr"].equals(draw_plan(params, 200, seed=3, stage=2)["optimizer.lr"])


def test_a_plan_row_sets_the_list_of_its_members_in_config_order():
    params = parameters_of(SPACE)
    row = {"optimizer.lr": 0.01, "optimizer.momentum": 0.5, "train.batch_size": 64, "model.activation": "tanh",
           "train.augmentation.hflip": True, "train.augmentation.rotate10": False, "train.augmentation.shift5": "True"}
    assert run_params(params, row) == {"optimizer.lr": 0.01, "optimizer.momentum": 0.5, "train.batch_size": 64,
                                       "model.activation": "tanh", "train.augmentation": ["hflip", "shift5"]}


def test_narrowing_nests_the_spaces_and_keeps_the_top_trials_of_the_stage_before():
    params = parameters_of(SPACE)
    plan = draw_plan(params, 40, seed=0, stage=1)
    # accuracy peaks at lr 0.01, and relu learns best; shift5 always hurts a little
    def score(v):
        if v["optimizer.lr"] > 0.08:
            return float("nan")  # diverged
        return 0.9 - 0.1 * abs(math.log10(v["optimizer.lr"]) + 2) - 0.05 * (v["model.activation"] != "relu") \
            - 0.01 * ("shift5" in v["train.augmentation"])
    table = results_for(plan, params, 1, score)
    kept = kept_trials(table, 0.25, "val_acc", 10, stage=1)
    learning = table[(table["status"] == "ok") & (table["val_acc"] > 0.15)]
    assert len(kept) == math.ceil(0.25 * len(learning))
    assert kept["val_acc"].min() >= learning["val_acc"].nlargest(len(kept)).min()
    narrowed = narrow(params, kept)
    by_key = {p["key"]: p for p in narrowed}
    for old, new in zip(params, narrowed):
        if old["type"] in ("float", "int"):
            assert old["low"] <= new["low"] <= new["high"] <= old["high"], new
        elif old["type"] == "categorical":
            assert set(new["values"]) <= set(old["values"]) and new["values"] == [v for v in old["values"] if v in new["values"]]
    lr = by_key["optimizer.lr"]
    assert lr["low"] == pytest.approx(kept["optimizer.lr"].min()) and lr["high"] == pytest.approx(kept["optimizer.lr"].max())
    # every kept trial lies in the narrowed space
    for _, row in kept.iterrows():
        for param in narrowed:
            value = ({m: row[f"{param['key']}.{m}"] for m in param["members"]} if param["type"] == "subsets"
                     else row[param["key"]])
            assert contains(param, value), (param, value)
    # a member every kept trial agrees on is fixed, and the next plan never flips it
    members = by_key["train.augmentation"]
    for member, on in members["fixed"].items():
        assert set(kept[f"train.augmentation.{member}"]) == {on}
        assert set(draw_plan(narrowed, 30, 0, 2)[f"train.augmentation.{member}"]) == {on}


def test_one_kept_value_keeps_a_tenth_of_the_old_width_each_side():
    params = [{"key": "optimizer.momentum", "type": "float", "low": 0.0, "high": 0.8, "log": False}]
    kept = pd.DataFrame({"optimizer.momentum": [0.5]})
    [new] = narrow(params, kept)
    assert (new["low"], new["high"]) == pytest.approx((0.42, 0.58))
    [edge] = narrow(params, pd.DataFrame({"optimizer.momentum": [0.01]}))
    assert (edge["low"], edge["high"]) == pytest.approx((0.0, 0.09))  # clipped to the old range


def test_a_stage_where_nothing_learned_stops_naming_the_stage():
    params = parameters_of(SPACE[:1])
    plan = draw_plan(params, 5, seed=0, stage=1)
    table = results_for(plan, params, 1, lambda v: 0.1)  # chance on 10 classes
    with pytest.raises(SearchError, match="no trial of search stage 1 learned.*search.space"):
        kept_trials(table, 0.5, "val_acc", 10, stage=1)


def test_the_best_is_the_argmax_of_the_last_stage_and_names_its_trial_and_epochs():
    params = parameters_of(SPACE)
    space1, plan1 = plan_stage(1, {"trials": 10, "epochs": 1}, SPACE, 0, "val_acc", 10)
    score = lambda v: 0.5 + 0.01 * v["train.batch_size"] / 128 + (0.2 if v["model.activation"] == "relu" else 0)
    table1 = results_for(plan1, params, 1, score)
    space2, plan2 = plan_stage(2, {"trials": 6, "epochs": 4, "keep_top": 0.5}, SPACE, 0, "val_acc", 10, space1, table1)
    assert space2["from_stage"] == 1 and len(space2["kept"]) == 5 and set(space2["kept"]) <= set(plan1["trial"])
    table2 = results_for(plan2, space2["params"], 2, score)
    trials = all_trials([table1, table2])
    best = choose_best_trial(trials, space2, "val_acc")
    last = trials[trials["stage"] == 2]
    assert best["trial"] == last.loc[last["val_acc"].idxmax(), "trial"] and best["stage"] == 2
    assert best["value"] == last["val_acc"].max()
    assert best["params"]["train.epochs"] == 4 and isinstance(best["params"]["train.augmentation"], list)
    assert best["runner_up"]["trial"] != best["trial"] and best["margin"] >= 0
    assert best["n_trials"] == 16 and best["n_stage_trials"] == 6


def test_on_edge_is_within_five_percent_of_the_range_in_log_for_log_parameters():
    params = parameters_of(SPACE[:2])
    assert on_edge(params, {"optimizer.lr": 1.3e-4, "optimizer.momentum": 0.5}) == ["optimizer.lr"]
    assert on_edge(params, {"optimizer.lr": 1e-3, "optimizer.momentum": 0.88}) == ["optimizer.momentum"]
    assert on_edge(params, {"optimizer.lr": 1e-3, "optimizer.momentum": 0.5}) == []


def test_a_staged_study_validates_and_lists_its_stages_files():
    config = validate(staged())
    targets = KINDS["search"].targets(config, "results/s")
    assert "results/s/search/stages/2/plan.csv" in targets and "results/s/search/trials.csv" in targets
    assert "results/s/search/grid.csv" not in targets
    assert "trials.smk" in KINDS["search"].rule_files(config) and "search.smk" not in KINDS["search"].rule_files(config)
    assert columns_of(parameters_of(config["search"]["space"]))[-1] == "train.augmentation.shift5"


@pytest.mark.parametrize("change, message", [
    ({"space": [{"key": "optimizer.lr", "low": 0.1, "high": 0.1}]}, r"search.space\[0\].low: 0.1 is not below high"),
    ({"space": [{"key": "optimizer.lr", "low": 0.0, "high": 0.1, "log": True}]}, r"search.space\[0\].low: 0.0 with log"),
    ({"space": [{"key": "optimizer.lr", "subsets_of": ["a"]}]}, r"search.space\[0\].subsets_of: optimizer.lr holds a single value"),
    ({"space": [{"key": "optimizer.lr", "low": 0.1, "values": [0.1]}]}, r"search.space\[0\]: optimizer.lr has values and low/high"),
    ({"space": [{"key": "train.epochs", "values": [1, 2]}]}, r"search.space\[0\].key: train.epochs in a staged search"),
    ({"space": [{"key": "model.activation", "values": ["relu", "softmax"]}]}, r"search.space\[0\].values\[1\]: 'softmax'"),
    ({"space": [{"key": "train.augmentation", "subsets_of": ["hflip", "twirl"]}]}, r"search.space\[0\].subsets_of"),
    ({"space": [{"key": "model.widht", "values": [1]}]}, r"search.space\[0\].key: 'model.widht' is not a key"),
    ({"stages": []}, r"search.stages: empty"),
    ({"stages": [{"trials": 4, "epochs": 1}, {"trials": 2, "epochs": 2, "keep_top": 0}]}, r"search.stages\[1\].keep_top"),
    ({"stages": [{"trials": 4, "epochs": 1}, {"trials": 2, "epochs": 2, "keep_top": 1.5}]}, r"search.stages\[1\].keep_top"),
    ({"axes": [{"key": "optimizer.lr", "values": [0.1]}]}, r"search.axes: read only by search.method grid"),
    ({"space": [{"key": "model.num_filters", "values": [8, 16]}]}, r"search.space\[0\].key: model.num_filters is read only by model.name vgg"),
    ({"space": [{"key": "optimizer.lr", "low": 1e-4, "high": 0.1}], "method": "random", "stages": [{"trials": 1, "epochs": 1}]},
     r"search.stages: read only by search.method staged"),
    ({"space": [{"key": "train.batch_size", "low": 8, "high": 64}]}, r"search.space\[0\].integer: train.batch_size takes whole"),
    ({"space": [{"key": "train.batch_size", "low": 8, "high": 64.5, "integer": True}]}, r"search.space\[0\].high: 64.5 with integer"),
    ({"stages": [{"trials": 4, "epochs": 1, "keep_top": 0.5}]}, r"search.stages\[0\].keep_top: the first stage"),
])
def test_a_bad_space_is_refused_naming_its_key(change, message):
    with pytest.raises(ConfigError, match=message):
        validate(staged(**change))


def test_a_space_that_would_drop_the_studys_own_augmentation_or_epochs_is_refused():
    with pytest.raises(ConfigError, match=r"search.space\[4\].subsets_of: .* drop the study's own \['vflip'\]"):
        validate({**staged(), "train": {"augmentation": ["vflip"]}})
    with pytest.raises(ConfigError, match=r"train.epochs: 7, but a staged search .* expected train.epochs left out or 3"):
        validate({**staged(), "train": {"epochs": 7}})
    assert validate({**staged(), "train": {"epochs": 3, "augmentation": ["hflip"]}})["train"]["epochs"] == 3


def test_ties_go_to_the_lower_validation_loss_then_to_trial_order():
    params = parameters_of(SPACE[:1])
    plan = pd.DataFrame({"trial": ["s1t000", "s1t001", "s1t002"], "optimizer.lr": [0.001, 0.01, 0.05]})
    table = stage_table({"stage": 1, "params": params}, plan, [
        {"trial": t, "train_loss": 1, "train_acc": 0.5, "val_loss": loss, "val_acc": 0.9, "status": "ok",
         "seconds": 1, "epochs_run": 2} for t, loss in (("s1t000", 0.5), ("s1t001", 0.3), ("s1t002", 0.3))])
    best = choose_best_trial(table, {"stage": 1, "epochs": 2, "params": params}, "val_acc")
    assert best["trial"] == "s1t001" and best["tied_with"] == ["s1t000", "s1t002"]
    assert best["runner_up"]["trial"] == "s1t002" and best["margin"] == 0


def test_a_grid_with_a_space_is_refused():
    with pytest.raises(ConfigError, match=r"search.space: read only by search.method random or staged.*search.axes"):
        validate({"study": "s", "search": {"space": SPACE}})


def test_a_random_search_may_search_the_epochs_and_its_best_trains_that_long():
    config = validate({"study": "s", "dataset": {"name": "digits"}, "landscape": {"enabled": False},
                       "search": {"method": "random", "trials": 5,
                                  "space": [{"key": "train.epochs", "values": [2, 3]}, SPACE[0]]}})
    params = parameters_of(config["search"]["space"])
    space, plan = plan_stage(1, {"trials": 5, "epochs": config["train"]["epochs"]}, config["search"]["space"], 0, "val_acc", 10)
    table = results_for(plan, params, 1, lambda v: 0.5 + v["train.epochs"] / 10 + np.log10(v["optimizer.lr"]) / 100)
    best = choose_best_trial(table, space, "val_acc")
    assert best["params"]["train.epochs"] == plan.set_index("trial").loc[best["trial"], "train.epochs"]


def test_a_batch_of_trials_run_twice_writes_the_same_files_but_seconds(tmp_path):
    from gridscape import io
    from gridscape.data import load_prepared, prepare
    from gridscape.data.split import stratified_split
    from gridscape.search.trials import run_trials

    prepare("digits", [], tmp_path / "digits.npz")
    io.write_csv(tmp_path / "split.csv", stratified_split(load_prepared(tmp_path / "digits.npz").train_labels, 0.2, 0))
    config = validate({"study": "s", "device": "cpu", "dataset": {"name": "digits"}, "landscape": {"enabled": False},
                       "model": {"name": "mlp", "hidden_size": 16}, "train": {"seed": 0, "batch_size": 64},
                       "search": {"method": "random", "trials": 2, "space": [
                           {"key": "optimizer.lr", "low": 0.01, "high": 0.1, "log": True},
                           {"key": "train.augmentation", "subsets_of": ["rotate10"]}]}})
    space, plan = plan_stage(1, {"trials": 2, "epochs": 1}, config["search"]["space"], 0, "val_acc", 10)
    io.write_json(tmp_path / "space.json", space)
    io.write_csv(tmp_path / "plan.csv", plan)
    runs = []
    for attempt in ("a", "b"):
        run_trials(config, tmp_path / "space.json", tmp_path / "plan.csv", ["s1t000", "s1t001"], tmp_path / "digits.npz",
                   tmp_path / "split.csv", tmp_path / attempt)
        runs.append({trial: (io.read_csv_exact(tmp_path / attempt / trial / "history.csv").drop(columns="seconds"),
                             {k: v for k, v in io.read_json(tmp_path / attempt / trial / "metrics.json").items()
                              if k != "seconds"}) for trial in ("s1t000", "s1t001")})
    for trial in ("s1t000", "s1t001"):
        pd.testing.assert_frame_equal(runs[0][trial][0], runs[1][trial][0])
        assert runs[0][trial][1] == runs[1][trial][1]
        assert len(runs[0][trial][0]) == 1 and runs[0][trial][1]["params"]["train.augmentation"] in ([], ["rotate10"])
    assert runs[0]["s1t000"][1]["val_loss"] != runs[0]["s1t001"][1]["val_loss"]  # two settings, two results


def test_the_first_stages_keep_top_default_is_the_schemas():
    from gridscape.config import load_schema
    from gridscape.kinds.search_methods import KEEP_TOP_DEFAULT

    stages = load_schema()["properties"]["search"]["properties"]["stages"]
    assert stages["items"]["properties"]["keep_top"]["default"] == KEEP_TOP_DEFAULT


def test_the_interactive_page_holds_every_trial_on_every_axis_and_loads_nothing(tmp_path):
    import json as json_module
    import re
    import shutil
    import subprocess

    from gridscape.plots.parallel_html import SCRIPT, parallel_page

    params = parameters_of(SPACE)
    plan = draw_plan(params, 5, seed=0, stage=1)
    table = results_for(plan, params, 1, lambda v: 0.5 + v["optimizer.momentum"] / 2)
    table.loc[2, "status"], table.loc[2, "val_acc"] = "diverged", float("nan")
    page = parallel_page(table, params, "val_acc", best="s1t001", title="<b>x</b>")
    data = json_module.loads(re.search(r"<script type='application/json' id='data'>(.*?)</script>", page, re.S).group(1))
    assert [a["name"] for a in data["axes"]] == [
        "optimizer.lr (log)", "optimizer.momentum", "train.batch_size", "model.activation", "train.augmentation.hflip",
        "train.augmentation.rotate10", "train.augmentation.shift5", "val_acc"]
    assert len(data["trials"]) == 5 and all(len(t["position"]) == 8 for t in data["trials"])
    assert [t["best"] for t in data["trials"]] == [False, True, False, False, False]
    assert data["trials"][2]["diverged"] and data["trials"][2]["position"][-1] is None
    # the highest accuracy sits at the top of the metric axis, the momentum that made it at the top of its own
    top = max(range(5), key=lambda n: -1 if n == 2 else table["val_acc"][n])
    assert data["trials"][top]["position"][-1] == 1.0
    assert data["trials"][top]["position"][1] == max(t["position"][1] for n, t in enumerate(data["trials"]) if n != 2)
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert not re.search(r"(src|href)=", page)  # nothing fetched: a self-contained page
    if shutil.which("node"):
        script = tmp_path / "parallel.js"
        script.write_text(SCRIPT)
        assert subprocess.run(["node", "--check", str(script)], capture_output=True).returncode == 0
