"""The exercises kind (CS5242 assignment 2, questions 1, 4 and 6): oracles from the reference
note (/work/shared/reference/seeds-002-004.md, section 1.3), torch as the second opinion, the
files the steps write and the claims the report context computes from them."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gridscape import io
from gridscape.exercises import escape, ops, steps
from gridscape.exercises.functions import make_function
from gridscape.exercises.optimizers import COLUMNS, torch_adam_max_diff, trajectory
from gridscape.exercises.receptive_field import (
    HANDOUT_ROWS,
    empirical_receptive_field,
    module_receptive_fields,
    parse_layer,
    receptive_fields,
)

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
BUMP = {"type": "bump", "L": 1.0, "h": 0.5}

# --- question 6: receptive fields --------------------------------------------------------------

# RF after each layer, and the jump at the end, per handout row (reference note, section 1.3)
RF_ORACLE = [
    ([3, 5, 5, 6, 8], 4),
    ([3, 4, 6, 10, 26], 8),
    ([5, 7, 10, 11, 15], 2),
    ([7, 15, 19, 27, 27], 4),
    ([4, 6, 8, 16, 20], 8),
    ([7, 15, 19, 51, 147], 32),
    ([3, 6, 30, 66, 282], 54),
    ([4, 6, 14, 14, 18], 4),
    ([4, 6, 14, 14, 18], 4),
    ([11, 23, 27, 59, 91], 16),
]


def test_handout_rows_are_the_ten_of_the_seed():
    assert len(HANDOUT_ROWS) == 10 and all(len(row) == 5 for row in HANDOUT_ROWS)
    assert HANDOUT_ROWS[8] == HANDOUT_ROWS[7]  # as the seed prints it
    assert [rf[-1] for rf, _ in RF_ORACLE] == [8, 26, 15, 27, 20, 147, 282, 18, 18, 91]


@pytest.mark.parametrize("number", range(1, 11))
def test_receptive_field_formula_and_autograd_agree_with_the_oracle(number):
    row, (per_layer, jump) = HANDOUT_ROWS[number - 1], RF_ORACLE[number - 1]
    fields = receptive_fields(row)
    assert [rf for rf, _ in fields] == per_layer
    assert fields[-1][1] == jump
    assert empirical_receptive_field(row) == per_layer[-1]


def test_autograd_measures_gaps_and_prefixes():
    # a stride larger than the kernel leaves holes, but the span is still the formula's
    assert empirical_receptive_field(["conv 2 3", "conv 3 1"]) == receptive_fields(["conv 2 3", "conv 3 1"])[-1][0] == 8
    assert empirical_receptive_field(["maxpool 3 2"]) == 3


@pytest.mark.parametrize("text, expected", [
    ("conv 3 1", ("conv", 3, 1)),
    ("  maxpool 2 2 ", ("maxpool", 2, 2)),
    ("avgpool 3 3", ("avgpool", 3, 3)),
    ("conv2d(11,2)", ("conv", 11, 2)),
    ("maxpool2d(2, 2)", ("maxpool", 2, 2)),
])
def test_parse_layer(text, expected):
    assert parse_layer(text) == expected


@pytest.mark.parametrize("bad", ["conv 3", "pool 2 2", "conv three 1", "conv 0 1", "conv 3 1 1", ""])
def test_parse_errors_name_the_bad_text(bad):
    with pytest.raises(ValueError) as error:
        parse_layer(bad)
    assert repr(bad) in str(error.value)


def test_layer_table_receptive_fields_of_lenet5_on_32x32():
    """LeNet-5 with ReLU pools before the activation (models.lenet.POOL_FIRST). By hand, from
    rf 1 and jump 1: conv 5x5 -> rf 1 + 4*1 = 5, jump 1; max-pool 2/2 -> 5 + 1*1 = 6, jump 2;
    ReLU keeps 6, 2; conv 5x5 -> 6 + 4*2 = 14, jump 2; max-pool 2/2 -> 14 + 1*2 = 16, jump 4;
    ReLU and Flatten keep 16, 4; the first Linear mixes everything: the whole 32-pixel image,
    no jump, and so every layer after it."""
    from gridscape.models import build_model
    from gridscape.report.model_summary import layer_table

    model = build_model({"name": "lenet5", "activation": "relu"}, (3, 32, 32), 10)
    rows, _ = layer_table(model, (3, 32, 32))
    table = [(r.type, r.receptive_field, r.jump) for r in rows]
    assert table == [
        ("Conv2d", 5, 1), ("MaxPool2d", 6, 2), ("ReLU", 6, 2),
        ("Conv2d", 14, 2), ("MaxPool2d", 16, 4), ("ReLU", 16, 4),
        ("Flatten", 16, 4), ("Linear", 32, None), ("ReLU", 32, None),
        ("Linear", 32, None), ("ReLU", 32, None), ("Linear", 32, None),
    ]
    assert module_receptive_fields(model, (3, 32, 32)) == [(rf, jump) for _, rf, jump in table]


def test_module_receptive_fields_use_dilation_and_global_pooling():
    from torch import nn

    model = nn.Sequential(nn.Conv2d(1, 2, 3, dilation=2), nn.AvgPool2d(2), nn.Conv2d(2, 2, 3, stride=2),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
    # dilated 3x3 spans 5: rf 5; avg-pool 2 (stride defaults to the kernel): 6, jump 2;
    # conv 3/2: 6 + 2*2 = 10, jump 4; global pooling: the whole 40-pixel side
    assert module_receptive_fields(model, (1, 40, 40)) == [(5, 1), (6, 2), (10, 4), (40, None), (40, None), (40, None)]


def test_network_table_renders_with_and_without_receptive_fields():
    from gridscape.models import build_model
    from gridscape.report.context import network_context
    from gridscape.report.latex import render
    from gridscape.report.model_summary import forward_check

    model = build_model({"name": "lenet5", "activation": "relu"}, (3, 32, 32), 10)
    rows, check = forward_check(model, (3, 32, 32), 10)
    config = {"model": {"name": "lenet5", "activation": "relu"}}
    network = network_context(config, pd.DataFrame(rows), check)
    data = {"channels": 3, "n_classes": 10}
    # a layer table written before the receptive-field columns existed still renders
    old_layers = [{k: v for k, v in layer.items() if k not in ("receptive_field", "jump")} for layer in network["layers"]]
    plain = render(REPO / "workflow" / "report", "sections/network.tex.j2",
                   {"network": {**network, "layers": old_layers}, "data": data})
    assert "Receptive field" not in plain and r"\multicolumn{3}" in plain
    assert [layer["receptive_field"] for layer in network["layers"]] == [row["receptive_field"] for row in rows]
    tex = render(REPO / "workflow" / "report", "sections/network.tex.j2", {"network": network, "data": data})
    assert "& RF & Jump &" in tex and r"\multicolumn{5}" in tex and r"\end{tabularx}" in tex
    lines = {line.split(" & ")[0]: line.split(" & ") for line in tex.splitlines() if " & " in line}
    assert lines[r"\texttt{features.4}"][3:5] == ["16", "4"]
    assert lines[r"\texttt{classifier.1}"][3:5] == ["32", "--"]
    assert lines["input"][3:5] == ["1", "1"]


# --- question 1: the functions and the optimisers ---------------------------------------------


def test_functions_values_and_torch_subgradients():
    bump = make_function(BUMP)
    assert [bump.value(w) for w in (0.0, 1.0, 1.5, 2.0, 3.0)] == pytest.approx([1.0, 0.0, 0.5, 0.0, -0.5])
    assert [bump.grad(w) for w in (0.5, 1.2, 1.7, 2.5)] == [-1.0, 1.0, -1.0, -0.5]
    for name in ("relu", "abs", "sigmoid"):
        function = make_function({"type": name})
        for x in (-1.5, 0.0, 2.0):
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            getattr(torch, name)(t).backward()
            assert function.grad(x) == pytest.approx(t.grad.item(), abs=1e-15), (name, x)
            assert function.value(x) == pytest.approx(getattr(torch, name)(torch.tensor(x, dtype=torch.float64)).item())
    with pytest.raises(ValueError, match="unknown function type 'tanh'"):
        make_function({"type": "tanh"})
    with pytest.raises(ValueError, match="h must be positive"):
        make_function({"type": "bump", "h": 0})


def test_trajectory_table_layout():
    gd = trajectory(make_function(BUMP), "gd", 0.3, 0.0, 5)
    assert list(gd.columns) == COLUMNS and list(gd["t"]) == [0, 1, 2, 3, 4, 5]
    assert gd.loc[0, "x"] == 0.0 and gd.loc[0, "f"] == 1.0 and gd.loc[0, ["g", "m", "v", "m_hat", "v_hat"]].isna().all()
    assert gd[["m", "v", "m_hat", "v_hat"]].isna().all().all() and gd["g"].iloc[1:].notna().all()
    adam = trajectory(make_function(BUMP), "adam", 0.3, 0.0, 5, eps=0.0)
    assert adam.iloc[1:].notna().all().all()
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        trajectory(make_function(BUMP), "sgd", 0.3, 0.0, 5)


def test_gd_on_the_bump_oscillates_for_ever():
    x = trajectory(make_function(BUMP), "gd", 0.3, 0.0, 200)["x"].to_numpy()
    assert x[1:7] == pytest.approx([0.3, 0.6, 0.9, 1.2, 0.9, 1.2], abs=1e-12)
    tail = x[-20:]
    expected = np.where(np.arange(181, 201) % 2 == 1, 0.9, 1.2)  # odd steps at 0.9, even at 1.2
    assert np.abs(tail - expected).max() <= 1e-12
    assert steps.cycle(x) == {"period": 2, "since": 3, "values": pytest.approx([0.9, 1.2], abs=1e-12)}


def test_adam_on_the_bump_at_h_half_turns_back():
    frame = trajectory(make_function(BUMP), "adam", 0.3, 0.0, 30, eps=0.0)
    assert frame.loc[4, "x"] == pytest.approx(1.2, abs=1e-12)
    assert frame.loc[5, "x"] == pytest.approx(1.3535, abs=1e-4) and frame.loc[5, "m_hat"] == pytest.approx(-0.5116, abs=1e-4)
    assert frame.loc[6, "x"] == pytest.approx(1.41018, abs=1e-5)
    assert frame["x"].max() == frame.loc[6, "x"] and (frame.loc[7:, "x"] < 1.5).all()
    assert steps.sign_changes(frame["m_hat"].to_numpy(), frame["t"].to_numpy())[0] == 7


def test_escape_scan_finds_h_max():
    scan = escape.escape_scan(BUMP, "adam", 0.3, 0.0, 0.0, 0.01, 1.0, 0.001, 1000, 0.9, 0.999)
    assert list(scan.columns) == ["h", "escaped", "max_x", "crossed_at"] and len(scan) == 991
    assert scan["h"].iloc[400] == 0.41 and scan["h"].iloc[-1] == 1.0  # exact decimals
    assert round(escape.h_max(scan), 2) == 0.41 and escape.h_max(scan) == 0.41
    stuck = scan[~scan["escaped"]]
    assert stuck["max_x"].to_numpy() == pytest.approx(1.41018, abs=1e-5)
    assert stuck["crossed_at"].isna().all() and scan.loc[scan["escaped"], "crossed_at"].notna().all()
    assert (scan["escaped"] == (scan["h"] <= 0.41)).all()


def test_h_grid_is_exact_and_rejects_bad_grids():
    assert list(escape.h_grid(0.1, 0.3, 0.05)) == [0.1, 0.15, 0.2, 0.25, 0.3]
    assert escape.decimals(0.0025) == 4 and escape.decimals(1.0) == 0
    with pytest.raises(ValueError, match="escape h grid"):
        escape.h_grid(0.5, 0.1, 0.01)
    with pytest.raises(ValueError, match="needs a bump"):
        escape.escape_scan({"type": "relu"}, "adam", 0.3, 0.0, 0.0, 0.1, 0.2, 0.1, 10)


@pytest.mark.parametrize("spec, x0, eps, x30", [
    (BUMP, 0.0, 0.0, None),
    ({"type": "relu"}, 2.0, 1e-8, -2.5243),
    ({"type": "sigmoid"}, 2.0, 1e-8, -5.0846),
    ({"type": "abs"}, 2.0, 1e-8, 0.1130),
])
def test_own_adam_equals_torch_and_the_reference(spec, x0, eps, x30):
    function = make_function(spec)
    assert torch_adam_max_diff(function, 0.3, x0, 30, 0.9, 0.999, eps) <= 1e-12
    frame = trajectory(function, "adam", 0.3, x0, 30, eps=eps)
    if x30 is not None:
        assert frame["x"].iloc[-1] == pytest.approx(x30, abs=1e-4)
    if spec["type"] == "relu":  # 2 − 0.3t while the gradient is 1, then momentum alone
        assert frame["x"].iloc[:8].to_numpy() == pytest.approx(2 - 0.3 * np.arange(8), abs=1e-7)
    if spec["type"] == "abs":
        assert frame["x"].min() == pytest.approx(-0.4589, abs=1e-4)


# --- question 4: the ops ------------------------------------------------------------------------


def test_ops_match_torch_in_float64():
    table, inputs = ops.compare_ops(0, 32, 3, 10)
    assert list(table.columns) == ops.COLUMNS and list(table["op"]) == list(ops.OPS)
    assert table["match"].all(), table
    assert (table["max_abs_diff"] <= 1e-12).all()
    shapes = dict(zip(table["op"], table["torch_shape"]))
    assert shapes["MaxPool1d"] == "1x1x31" and shapes["conv1d"] == "1x1x30" and shapes["Linear"] == "1x10"
    assert shapes["BatchNorm1d.running_var"] == "1"
    assert {k: v.shape for k, v in inputs.items()}["input"] == (1, 1, 32)
    assert all(v.dtype == np.float64 for v in inputs.values())


def test_biased_running_var_would_not_match():
    """The running variance uses n − 1, the output n: the test tells the two apart."""
    inputs = ops.make_inputs(0)
    table = ops.compare(ops.torch_outputs(inputs), ops.mine(inputs, unbiased_running_var=False))
    bad = table.set_index("op")
    assert not bad.loc["BatchNorm1d.running_var", "match"] and bad.loc["BatchNorm1d.running_var", "max_abs_diff"] > 1e-6
    assert bad.drop(index="BatchNorm1d.running_var")["match"].all()


def test_ops_shape_mismatch_is_reported():
    inputs = ops.make_inputs(1, length=8, kernel=2, linear_out=3)
    ours = ops.mine(inputs)
    ours["Linear"] = ours["Linear"].T
    table = ops.compare(ops.torch_outputs(inputs), ours).set_index("op")
    assert not table.loc["Linear", "match"] and math.isnan(table.loc["Linear", "max_abs_diff"])


# --- the steps and the report context -----------------------------------------------------------

CONFIG = {"exercises": {
    "functions": {"bump": BUMP},
    "trajectories": [
        {"name": "gd_bump", "function": "bump", "optimizer": "gd", "lr": 0.3, "x0": 0.0, "steps": 30},
        {"name": "adam_bump", "function": "bump", "optimizer": "adam", "lr": 0.3, "eps": 0.0, "x0": 0.0, "steps": 30},
        {"name": "adam_relu", "function": "relu", "optimizer": "adam", "lr": 0.3, "x0": 2.0, "steps": 30},
        {"name": "adam_sigmoid", "function": "sigmoid", "optimizer": "adam", "lr": 0.3, "x0": 2.0, "steps": 30},
        {"name": "adam_abs", "function": "abs", "optimizer": "adam", "lr": 0.3, "x0": 2.0, "steps": 30},
    ],
    "escape": {"function": "bump", "optimizer": "adam", "lr": 0.3, "eps": 0.0, "x0": 0.0,
               "h": {"min": 0.01, "max": 1.0, "step": 0.001}, "steps": 1000},
    "ops": {"seed": 0, "length": 32, "kernel": 3, "linear_out": 10, "dtype": "float64"},
}}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every file of an exercises study, written by the steps, and the paths the context reads."""
    root = tmp_path_factory.mktemp("exercises")
    section = CONFIG["exercises"]
    paths = {"trajectories": {}}
    for spec in section["trajectories"]:
        paths["trajectories"][spec["name"]] = root / "trajectories" / f"{spec['name']}.csv"
        steps.run_trajectory(spec, section["functions"], paths["trajectories"][spec["name"]])
    paths["check"] = root / "trajectories" / "check.csv"
    steps.run_trajectory_check(section["trajectories"], section["functions"], paths["check"])
    paths["escape_csv"], paths["escape_json"] = root / "escape.csv", root / "escape.json"
    steps.run_escape(section["escape"], section["functions"], paths["escape_csv"], paths["escape_json"])
    paths["receptive_field"] = root / "receptive_field.csv"
    steps.run_receptive_field(None, paths["receptive_field"])
    paths["ops"], paths["npz"] = root / "ops.csv", root / "ops_inputs.npz"
    steps.run_ops(section["ops"], paths["ops"], paths["npz"])
    return paths


def test_step_files_have_the_contracted_columns(results):
    assert list(pd.read_csv(results["trajectories"]["adam_relu"]).columns) == COLUMNS
    assert list(pd.read_csv(results["check"]).columns) == ["name", "max_abs_diff_torch"]
    assert list(pd.read_csv(results["check"])["name"]) == ["adam_bump", "adam_relu", "adam_sigmoid", "adam_abs"]
    assert list(pd.read_csv(results["escape_csv"]).columns) == ["h", "escaped", "max_x", "crossed_at"]
    summary = io.read_json(results["escape_json"])
    assert {"h_max", "resolution", "function", "lr", "eps", "x0", "steps"} <= set(summary)
    assert summary["h_max"] == 0.41 and summary["resolution"] == 0.001
    rf = pd.read_csv(results["receptive_field"])
    assert list(rf.columns) == ["row", *[f"layer{i}" for i in range(1, 6)], *[f"rf{i}" for i in range(1, 6)],
                                "receptive_field", "jump", "empirical"]
    assert list(rf["receptive_field"]) == [8, 26, 15, 27, 20, 147, 282, 18, 18, 91]
    assert list(rf["empirical"]) == list(rf["receptive_field"]) and rf.loc[0, "layer4"] == "maxpool 2 2"
    assert list(pd.read_csv(results["ops"]).columns) == ops.COLUMNS
    assert set(io.read_npz(results["npz"])) == {"input", "filter", "bn_weight", "bn_bias", "linear_weight", "linear_bias"}


def test_receptive_field_step_takes_rows_of_any_length(tmp_path):
    frame = steps.run_receptive_field([["conv 3 1"], ["conv 3 1", "maxpool 2 2", "conv 3 1"]], tmp_path / "rf.csv")
    back = pd.read_csv(tmp_path / "rf.csv")
    assert list(back.columns) == ["row", "layer1", "layer2", "layer3", "rf1", "rf2", "rf3", "receptive_field", "jump", "empirical"]
    assert back["layer2"].isna().tolist() == [True, False] and back["rf3"].isna().tolist() == [True, False]
    assert list(frame["receptive_field"]) == [3, 8] and list(back["empirical"]) == [3, 8]
    assert "3.0" not in (tmp_path / "rf.csv").read_text()  # integer columns stay integers
    with pytest.raises(ValueError, match="'conv3'"):
        steps.run_receptive_field([["conv3"]], tmp_path / "bad.csv")
    assert not (tmp_path / "bad.csv").exists()


def test_unknown_function_names_the_name():
    with pytest.raises(ValueError, match="unknown function 'wiggle'"):
        steps.function_spec("wiggle", {"bump": BUMP})


def test_context_claims_from_the_files(results):
    ctx = steps.build_exercises_context(results, CONFIG)
    gd = ctx["gd_cycle"]
    assert gd["name"] == "gd_bump" and gd["period"] == 2 and gd["since"] == 3
    assert gd["values"] == pytest.approx([0.9, 1.2], abs=1e-12)
    assert ctx["escape"]["h_max"] == 0.41 and ctx["escape"]["h_max_2dp"] == 0.41 and ctx["escape"]["threshold"]
    assert ctx["escape"]["max_x_stuck"] == pytest.approx(1.41018, abs=1e-5)
    traj = ctx["trajectories"]
    assert traj["adam_bump"]["escaped"] is False and traj["adam_bump"]["m_hat_sign_changes"][0] == 7
    assert traj["adam_bump"]["argmax_x"] == 6 and traj["adam_bump"]["step_ratio_min"] == pytest.approx(-1.0)
    assert traj["adam_relu"]["final_x"] == pytest.approx(-2.5243, abs=1e-4)
    assert traj["adam_relu"]["zero_grad_from"] == 8 and traj["adam_relu"]["full_steps"] == 7
    assert traj["adam_relu"]["m_hat_sign_changes"] == []
    assert traj["adam_sigmoid"]["final_x"] == pytest.approx(-5.0846, abs=1e-4)
    assert 0.3 < traj["adam_sigmoid"]["step_ratio_min"] <= traj["adam_sigmoid"]["step_ratio_max"] < 1.1
    assert traj["adam_abs"]["final_x"] == pytest.approx(0.1130, abs=1e-4)
    assert traj["adam_abs"]["x_sign_changes"] >= 3 and traj["adam_abs"]["min_x"] == pytest.approx(-0.4589, abs=1e-4)
    assert ctx["check"]["all_within"] and ctx["check"]["max"] <= 1e-12 and len(ctx["check"]["rows"]) == 4
    rf = ctx["receptive_field"]
    assert rf["row1"] == 8 and rf["row1_matches_handout"] and rf["all_agree"] and rf["disagree"] == []
    assert rf["rows"][6]["layers"][0] == "conv 3 3" and rf["rows"][6]["rfs"] == [3, 6, 30, 66, 282]
    assert ctx["ops"]["all_match"] and ctx["ops"]["mismatched"] == []


def test_context_reports_failures(results, tmp_path):
    bad_ops = pd.read_csv(results["ops"])
    bad_ops.loc[bad_ops["op"] == "Sigmoid", ["max_abs_diff", "match"]] = [0.5, False]
    io.write_csv(tmp_path / "ops.csv", bad_ops)
    bad_rf = pd.read_csv(results["receptive_field"])
    bad_rf.loc[0, ["receptive_field", "empirical"]] = [9, 8]
    io.write_csv(tmp_path / "rf.csv", bad_rf)
    ctx = steps.build_exercises_context({**results, "ops": tmp_path / "ops.csv", "receptive_field": tmp_path / "rf.csv"},
                                        CONFIG)
    assert not ctx["ops"]["all_match"] and ctx["ops"]["mismatched"] == ["Sigmoid"]
    assert not ctx["receptive_field"]["row1_matches_handout"] and ctx["receptive_field"]["disagree"] == [1]


def test_cycle_detection():
    assert steps.cycle(np.array([0.0, 1.0, 2.0, 3.0, 4.0])) is None
    assert steps.cycle(np.array([3.0, 1.0, 1.0, 1.0, 1.0])) == {"period": 1, "since": 1, "values": [1.0]}
    assert steps.cycle(np.array([0.0, 1.0, 2.0, 1.0, 2.0, 1.0])) == {"period": 2, "since": 1, "values": [1.0, 2.0]}


def _no_torch_after(code: str) -> None:
    probe = f"import sys\n{code}\nassert 'torch' not in sys.modules, 'torch was imported'\n"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(SRC), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_report_context_does_not_import_torch(results):
    paths = {k: (str(v) if not isinstance(v, dict) else {n: str(p) for n, p in v.items()}) for k, v in results.items()}
    _no_torch_after(f"from gridscape.exercises.steps import build_exercises_context\n"
                    f"ctx = build_exercises_context({paths!r}, {CONFIG!r})\nassert ctx['escape']['h_max'] == 0.41")


# --- figures ------------------------------------------------------------------------------------


def test_plots_write_png_and_pdf(results, tmp_path):
    from gridscape.plots import exercises as plots

    info = plots.plot_trajectory(results["trajectories"]["adam_bump"], tmp_path / "t.png", tmp_path / "t.pdf", "adam_bump")
    assert info.notes["traces"] == ["g", "m", "v", "m_hat", "v_hat", "x"]  # GD's files have only g and x
    outputs = list(info.paths)
    outputs += plots.plot_escape(results["escape_csv"], results["escape_json"], tmp_path / "escape.png",
                                 tmp_path / "escape.pdf").paths
    info = plots.plot_functions({"bump": BUMP}, tmp_path / "functions.png", tmp_path / "functions.pdf")
    assert info.notes["functions"] == ["bump", "relu", "sigmoid", "abs"]
    outputs += info.paths
    for path in outputs:
        assert path.stat().st_size > 1000
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in outputs if p.suffix == ".png")
    assert all(p.read_bytes().startswith(b"%PDF") for p in outputs if p.suffix == ".pdf")


def test_plot_module_does_not_import_torch():
    _no_torch_after("import gridscape.plots.exercises")
