"""Grid aggregation and the choice of the best cell."""

import math

import pandas as pd
import numpy as np
import pytest

from gridscape.search.best import SearchError, aggregate, cell_summary, choose_best, edge_axes

AXES = [
    {"key": "optimizer.lr", "values": [0.1, 0.01, 0.001]},
    {"key": "optimizer.momentum", "values": [0.2, 0.5, 0.8]},
]


def make_grid(val_acc, val_loss=None, status=None):
    rows = []
    i = 0
    for lr in AXES[0]["values"]:
        for m in AXES[1]["values"]:
            rows.append({
                "optimizer.lr": lr, "optimizer.momentum": m,
                "train_loss": 1.0, "train_acc": 0.5,
                "val_loss": val_loss[i] if val_loss else 1.0 - val_acc[i],
                "val_acc": val_acc[i], "status": status[i] if status else "ok",
                "seconds": 1.0,
            })
            i += 1
    return aggregate(rows, ["optimizer.lr", "optimizer.momentum"])


def test_best_is_argmax_with_margin_and_runner_up():
    grid = make_grid([0.1, 0.2, 0.3, 0.4, 0.65, 0.6, 0.1, 0.1, 0.1])
    best = choose_best(grid, AXES, "val_acc")
    assert best["params"] == {"optimizer.lr": 0.01, "optimizer.momentum": 0.5}
    assert best["value"] == 0.65
    assert best["runner_up"]["params"] == {"optimizer.lr": 0.01, "optimizer.momentum": 0.8}
    assert best["margin"] == pytest.approx(0.05)
    assert best["on_edge"] == []
    assert best["metric"] == "val_acc"


def test_best_on_the_edge_is_reported():
    grid = make_grid([0.9, 0.2, 0.3, 0.4, 0.5, 0.6, 0.1, 0.1, 0.1])
    best = choose_best(grid, AXES, "val_acc")
    assert best["params"] == {"optimizer.lr": 0.1, "optimizer.momentum": 0.2}
    assert best["on_edge"] == ["optimizer.lr", "optimizer.momentum"]


def test_ties_go_to_lower_loss_then_grid_order():
    acc = [0.5, 0.7, 0.1, 0.1, 0.7, 0.1, 0.1, 0.1, 0.7]
    loss = [1.0, 0.9, 1.0, 1.0, 0.8, 1.0, 1.0, 1.0, 0.8]
    best = choose_best(make_grid(acc, loss), AXES, "val_acc")
    assert best["params"] == {"optimizer.lr": 0.01, "optimizer.momentum": 0.5}  # index 4 before 8
    assert best["tied_with"] == [{"optimizer.lr": 0.001, "optimizer.momentum": 0.8}, {"optimizer.lr": 0.1, "optimizer.momentum": 0.5}]
    assert best["margin"] == 0.0


def test_diverged_cells_are_never_best():
    acc = [0.99, 0.5, 0.4, 0.3, 0.2, 0.1, 0.1, 0.1, 0.1]
    status = ["diverged"] + ["ok"] * 8
    loss = [math.nan] + [1.0] * 8
    best = choose_best(make_grid(acc, loss, status), AXES, "val_acc")
    assert best["params"] == {"optimizer.lr": 0.1, "optimizer.momentum": 0.5}
    assert best["n_diverged"] == 1
    assert best["diverged"] == [{"optimizer.lr": 0.1, "optimizer.momentum": 0.2}]


def test_lowest_loss_metric():
    loss = [0.9, 0.8, 0.3, 0.7, 0.6, 0.5, 0.4, 0.35, 1.0]
    best = choose_best(make_grid([0.5] * 9, loss), AXES, "val_loss")
    assert best["params"] == {"optimizer.lr": 0.1, "optimizer.momentum": 0.8}
    assert best["value"] == 0.3


def test_every_cell_diverged_stops_with_a_clear_message():
    grid = make_grid([0.1] * 9, [math.inf] * 9, ["diverged"] * 9)
    with pytest.raises(SearchError, match="every one of the 9 cells of the grid diverged"):
        choose_best(grid, AXES, "val_acc")


def test_grid_csv_round_trip_keeps_types(tmp_path):
    from gridscape import io

    grid = make_grid([0.1, 0.2, 0.3, 0.4, 0.65, 0.6, 0.1, 0.1, 0.1])
    io.write_csv(tmp_path / "grid.csv", grid)
    back = pd.read_csv(tmp_path / "grid.csv")
    assert list(back.columns[:2]) == ["optimizer.lr", "optimizer.momentum"]
    assert choose_best(back, AXES, "val_acc")["params"] == {"optimizer.lr": 0.01, "optimizer.momentum": 0.5}


def test_cell_summary_takes_the_last_epoch():
    history = [
        {"epoch": 1, "train_loss": 2.0, "train_acc": 0.1, "val_loss": 2.1, "val_acc": 0.12, "seconds": 1.0},
        {"epoch": 2, "train_loss": 1.0, "train_acc": 0.6, "val_loss": 1.1, "val_acc": 0.55, "seconds": 1.0},
    ]
    row = cell_summary({"optimizer.lr": 0.1}, history, "ok", 2.0)
    assert row == {"optimizer.lr": 0.1, "train_loss": 1.0, "train_acc": 0.6, "val_loss": 1.1, "val_acc": 0.55, "status": "ok", "seconds": 2.0}


def test_edges_ignore_seed_and_categorical_axes():
    axes = [{"key": "train.seed", "values": [31, 42, 53]}, {"key": "model.activation", "values": ["relu", "tanh"]}]
    assert edge_axes({"train.seed": 31, "model.activation": "relu"}, axes) == []


def test_grid_values_survive_the_csv_exactly(tmp_path):
    from gridscape import io

    axes = [{"key": "optimizer.lr", "values": [0.1, 1 / 30]}]
    rows = [
        {"optimizer.lr": lr, "train_loss": 1.0, "train_acc": 0.5, "val_loss": 1.0, "val_acc": acc, "status": "ok", "seconds": 1.0}
        for lr, acc in zip(axes[0]["values"], [0.2, 0.9])
    ]
    io.write_csv(tmp_path / "grid.csv", aggregate(rows, ["optimizer.lr"]))
    best = choose_best(pd.read_csv(tmp_path / "grid.csv"), axes, "val_acc")
    assert best["params"]["optimizer.lr"] == 1 / 30
    assert best["on_edge"] == ["optimizer.lr"]


# --- the paired test of two cells on the same validation images (issue 15) ---------------------


def test_mcnemar_exact_p_value_of_constructed_pairs():
    from gridscape.search.paired import mcnemar_exact_p, paired_comparison

    assert mcnemar_exact_p(0, 0) == 1.0
    assert mcnemar_exact_p(5, 5) == 1.0
    # b = 0, c = 6: 2 * (1/2)^6
    assert mcnemar_exact_p(0, 6) == pytest.approx(2 / 64, rel=1e-15)
    # b = 2, c = 10: 2 * (1 + 12 + 66) / 4096 (scipy.stats.binomtest(2, 12).pvalue = 0.0385742...)
    assert mcnemar_exact_p(2, 10) == pytest.approx(2 * 79 / 4096, rel=1e-15) == pytest.approx(0.03857421875)
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7])
    first = np.array([0, 1, 2, 3, 4, 0, 0, 7])   # wrong on images 5, 6
    second = np.array([0, 1, 0, 0, 4, 5, 0, 0])  # wrong on images 2, 3, 6, 7
    result = paired_comparison(first, second, labels)
    assert (result["both_right"], result["only_first"], result["only_second"], result["neither"]) == (3, 3, 1, 1)
    assert result["p_value"] == pytest.approx(2 * (1 + 4) / 16)
    # two accuracies of 6/8 and 4/8 on the same images: the unpaired approximation is not this test
    with pytest.raises(ValueError, match="different images"):
        paired_comparison(first, second[:-1], labels)



def test_the_paired_test_finds_cells_by_their_grid_row_even_when_csv_turns_0_into_0_0(tmp_path):
    """momentum [0, 0.9]: grid.csv reads 0 back as 0.0, which once failed to match the cell's 0."""
    from gridscape import io
    from gridscape.search.best import choose_best, with_paired_evidence

    axes = [{"key": "optimizer.momentum", "values": [0, 0.9]}]
    rows = [{"optimizer.momentum": m, "train_loss": 1.0, "train_acc": 0.5, "val_loss": loss, "val_acc": acc,
             "status": "ok", "seconds": 1.0} for m, loss, acc in ((0, 1.2, 0.50), (0.9, 1.0, 0.75))]
    io.write_csv(tmp_path / "grid.csv", pd.DataFrame(rows))
    grid = io.read_csv_exact(tmp_path / "grid.csv")
    assert grid["optimizer.momentum"].tolist() == [0.0, 0.9]
    labels = np.array([0, 1, 2, 3])
    predicted = {0: np.array([0, 1, 0, 0]), 1: np.array([0, 1, 2, 0])}  # row 1 right on one more image
    metrics, predictions = [], []
    for row in (0, 1):
        io.write_json(tmp_path / f"m{row}.json", {"clean_train_loss": 0.1 * row, "clean_train_acc": 0.5 + 0.1 * row})
        io.write_npz(tmp_path / f"p{row}.npz", index=np.arange(4), label=labels, predicted=predicted[row])
        metrics.append(str(tmp_path / f"m{row}.json"))
        predictions.append(str(tmp_path / f"p{row}.npz"))
    best = with_paired_evidence(choose_best(grid, axes, "val_acc"), metrics, predictions)
    assert best["grid_row"] == 1 and best["runner_up"]["grid_row"] == 0
    assert best["train_clean"] == {"loss": 0.1, "acc": 0.6}
    assert (best["paired"]["only_first"], best["paired"]["only_second"]) == (1, 0)
