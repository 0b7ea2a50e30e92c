"""Weight statistics and histograms read from safetensors files, without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from safetensors.numpy import save_file

import gridscape.plots.weights as weights_plot
from gridscape.plots.weights import plot_weight_histograms
from gridscape.weight_stats import COLUMNS, NEAR_ZERO, natural_key, read_weights, study_weight_stats, weight_stats

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _write(path: Path, tensors: dict[str, np.ndarray]) -> Path:
    save_file({name: np.ascontiguousarray(array) for name, array in tensors.items()}, str(path))
    return path


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    return _write(tmp_path / "model.safetensors", {
        "a.10.weight": rng.normal(size=(3, 2)).astype(np.float32),
        "a.2.weight": np.array([[1.0, -2.0], [0.5, 0.0]], dtype=np.float32),
        "a.2.bias": np.zeros(2, dtype=np.float32),
        "conv.0.weight": rng.normal(size=(4, 1, 3, 3)).astype(np.float32),
        "bn.running_mean": np.zeros(4, dtype=np.float32),
    })


# --- read_weights ---------------------------------------------------------------------------

def test_read_weights_keeps_only_matrices_and_kernels(model_file: Path) -> None:
    weights = read_weights(model_file)
    assert set(weights) == {"a.2.weight", "a.10.weight", "conv.0.weight"}
    assert weights["conv.0.weight"].shape == (4, 1, 3, 3)
    np.testing.assert_array_equal(weights["a.2.weight"], [[1.0, -2.0], [0.5, 0.0]])


def test_read_weights_natural_order_puts_2_before_10(model_file: Path) -> None:
    assert list(read_weights(model_file)) == ["a.2.weight", "a.10.weight", "conv.0.weight"]


def test_natural_key_compares_numbers_as_integers() -> None:
    names = ["layer.10.weight", "layer.2.weight", "layer.1.weight", "head.weight"]
    assert sorted(names, key=natural_key) == ["head.weight", "layer.1.weight", "layer.2.weight", "layer.10.weight"]


def test_read_weights_explicit_order_skips_non_weights_and_appends_unlisted(model_file: Path) -> None:
    order = ["conv.0.weight", "a.2.bias", "a.10.weight"]
    assert list(read_weights(model_file, order=order)) == ["conv.0.weight", "a.10.weight", "a.2.weight"]


def test_read_weights_order_with_unknown_name_raises(model_file: Path) -> None:
    with pytest.raises(ValueError, match="nope.weight"):
        read_weights(model_file, order=["nope.weight"])


# --- weight_stats ---------------------------------------------------------------------------

def test_weight_stats_columns_exact() -> None:
    frame = weight_stats({"w": np.ones((2, 2))})
    assert tuple(frame.columns) == COLUMNS == (
        "parameter", "numel", "mean_abs", "std", "frac_abs_lt_1e-3", "frac_abs_lt_1e-2", "l1_norm", "l2_norm")
    assert NEAR_ZERO == 1e-3


def test_weight_stats_matches_hand_computed_values() -> None:
    # 1e-3 and 1e-2 sit exactly on the thresholds: "<" is strict, so they are not counted.
    w = np.array([[0.0, 1e-3, -5e-4, 1e-2], [-2.0, 3.0, 5e-3, -1.0]])
    row = weight_stats({"w": w}).iloc[0]
    values = [0.0, 1e-3, -5e-4, 1e-2, -2.0, 3.0, 5e-3, -1.0]
    abs_sum = sum(abs(v) for v in values)
    mean = sum(values) / 8
    assert row["parameter"] == "w"
    assert row["numel"] == 8
    assert row["mean_abs"] == pytest.approx(abs_sum / 8)
    assert row["std"] == pytest.approx((sum((v - mean) ** 2 for v in values) / 8) ** 0.5)  # ddof=0
    assert row["frac_abs_lt_1e-3"] == pytest.approx(2 / 8)  # 0 and -5e-4; not 1e-3
    assert row["frac_abs_lt_1e-2"] == pytest.approx(4 / 8)  # 0, 1e-3, -5e-4, 5e-3; not 1e-2
    assert row["l1_norm"] == pytest.approx(abs_sum)
    assert row["l2_norm"] == pytest.approx(sum(v * v for v in values) ** 0.5)


def test_weight_stats_computes_in_float64() -> None:
    # Squares of 1e20 overflow float32 (max ~3.4e38) to inf; in float64 they are fine.
    w = np.full((2, 2), 1e20, dtype=np.float32)
    row = weight_stats({"w": w}).iloc[0]
    with np.errstate(over="ignore"):
        assert np.isinf(np.sqrt(np.sum(w * w)))  # the trap is real
    assert row["l2_norm"] == pytest.approx(2e20, rel=1e-6)


def test_all_row_pools_entries_instead_of_averaging_layers() -> None:
    small = np.array([[0.0, 0.0]])  # 2 entries, all near zero, mean |w| 0
    large = np.full((4, 4), 2.0)  # 16 entries, none near zero, mean |w| 2
    frame = weight_stats({"small": small, "large": large})
    assert list(frame["parameter"]) == ["small", "large", "all"]
    pooled = weight_stats({"x": np.concatenate([small.ravel(), large.ravel()])[None, :]}).iloc[0]
    everything = frame.iloc[-1]
    for column in COLUMNS[1:]:
        assert everything[column] == pytest.approx(pooled[column]), column
    assert everything["mean_abs"] == pytest.approx(32 / 18)
    assert everything["frac_abs_lt_1e-3"] == pytest.approx(2 / 18)
    # The per-layer average would be 1.0 and 0.5: the pooled row must not be that.
    assert everything["mean_abs"] != pytest.approx(frame["mean_abs"].iloc[:2].mean())
    assert everything["frac_abs_lt_1e-3"] != pytest.approx(frame["frac_abs_lt_1e-3"].iloc[:2].mean())


def test_weight_stats_empty_mapping_raises() -> None:
    with pytest.raises(ValueError, match="empty"):
        weight_stats({})


def test_l1_like_weights_are_sparser_than_l2_like(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    l2 = rng.normal(scale=0.05, size=(64, 64)).astype(np.float32)
    l1 = l2.copy()
    l1[rng.random(l1.shape) < 0.6] = 0.0  # L1 drives most weights exactly to zero
    paths = {"l1": _write(tmp_path / "l1.safetensors", {"fc.weight": l1}),
             "l2": _write(tmp_path / "l2.safetensors", {"fc.weight": l2})}
    frame = study_weight_stats(paths)
    overall = frame[frame["parameter"] == "all"].set_index("experiment")["frac_abs_lt_1e-3"]
    assert overall["l1"] > overall["l2"] + 0.5


# --- study_weight_stats ---------------------------------------------------------------------

def test_study_weight_stats_experiment_first_in_mapping_order(tmp_path: Path, model_file: Path) -> None:
    other = _write(tmp_path / "other.safetensors", {"fc.weight": np.ones((2, 3), dtype=np.float32)})
    frame = study_weight_stats({"zeta": other, "alpha": model_file})
    assert tuple(frame.columns) == ("experiment", *COLUMNS)
    assert list(frame["experiment"]) == ["zeta"] * 2 + ["alpha"] * 4
    assert list(frame["parameter"]) == ["fc.weight", "all", "a.2.weight", "a.10.weight", "conv.0.weight", "all"]
    assert frame.iloc[1]["l1_norm"] == pytest.approx(6.0)


# --- plot -----------------------------------------------------------------------------------

def _two_models() -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(2)
    return {
        "l1": {"conv.weight": np.zeros((2, 1, 3, 3)), "fc.weight": rng.normal(size=(5, 4))},
        "l2": {"fc.weight": rng.normal(size=(5, 4)), "head.weight": rng.normal(size=(2, 5))},
    }


def test_plot_writes_png_and_pdf_with_one_panel_per_parameter_plus_all(tmp_path: Path, monkeypatch) -> None:
    seen: dict[str, object] = {}
    real_save = weights_plot.save_figure

    def spy(fig, paths):
        visible = list(fig.axes)
        seen["titles"] = [ax.get_title() for ax in visible]
        seen["legends"] = [ax.get_legend() is not None for ax in visible]
        seen["colours"] = [[line.get_edgecolor() for line in ax.patches] for ax in visible]
        return real_save(fig, paths)

    monkeypatch.setattr(weights_plot, "save_figure", spy)
    open_before = plt.get_fignums()
    png, pdf = tmp_path / "w.png", tmp_path / "w.pdf"
    info = plot_weight_histograms(_two_models(), {"l1": "L1", "l2": "L2"}, [png, pdf], "weights")
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert plt.get_fignums() == open_before
    expected = ["all weights", "conv.weight", "fc.weight", "head.weight"]  # first model's order, then the rest
    assert seen["titles"] == expected  # 4 panels in a 2x3 grid: the 2 unused axes are removed
    assert list(info.notes["panels"]) == expected
    assert seen["legends"] == [True, False, False, False]
    # Each model keeps its colour: panel "fc.weight" draws l1 then l2 in the same colours as "all weights".
    assert seen["colours"][0] == seen["colours"][2]
    assert seen["colours"][0][0] != seen["colours"][0][1]


def test_plot_bins_span_floor_to_largest_magnitude(tmp_path: Path) -> None:
    models = {"a": {"w": np.array([[0.0, -4.0]])}, "b": {"w": np.array([[1e-9, 0.5]])}}
    info = plot_weight_histograms(models, {}, [tmp_path / "w.png"], "t")
    bins = info.notes["bins"]
    assert bins[0] == pytest.approx(1e-6)
    assert bins[-1] == pytest.approx(4.0)
    ratios = bins[1:] / bins[:-1]
    assert ratios == pytest.approx(np.full_like(ratios, ratios[0]))  # log-spaced


def test_plot_empty_models_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        plot_weight_histograms({}, {}, [tmp_path / "w.png"], "t")
    assert not (tmp_path / "w.png").exists()


# --- no torch -------------------------------------------------------------------------------

@pytest.mark.parametrize("module", ["gridscape.weight_stats", "gridscape.plots.weights"])
def test_import_does_not_load_torch(module: str) -> None:
    code = f"import sys, {module}; assert 'torch' not in sys.modules, 'torch was imported'"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_non_finite_weights_are_left_out_of_the_bins_and_counted(tmp_path):
    """A diverged run's NaN and infinite weights: the bins come from the finite ones, and the
    legend says how many were left out."""
    from gridscape.plots.weights import _bins, _magnitudes, _non_finite

    diverged = {"w": np.array([[np.nan, np.inf], [0.5, 0.01]])}
    healthy = {"w": np.array([[0.2, 0.3], [0.001, 0.02]])}
    assert list(_magnitudes(diverged)) == [0.5, 0.01] and _non_finite(diverged) == 2
    edges = _bins({"a": diverged, "b": healthy})
    assert np.isfinite(edges).all() and edges[-1] == pytest.approx(0.5)
    info = plot_weight_histograms({"a": diverged, "b": healthy}, {"a": "A", "b": "B"},
                                  [tmp_path / "h.png", tmp_path / "h.pdf"], title="t")
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")
    assert info.notes["panels"] == ["all weights", "w"]
