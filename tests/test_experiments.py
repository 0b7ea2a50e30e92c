"""Named experiments and what they need: optimisers and schedules, best-epoch selection, the
gradient-flow recorder, the results table, the config checks and how cells become jobs."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gridscape import io
from gridscape.config import ConfigError, validate
from gridscape.kinds.experiments import experiment_runs
from gridscape.kinds.search import grid_cells
from gridscape.data.loader import TensorData
from gridscape.experiments import check_table_against_histories, results_table, run_experiment, chosen_epoch
from gridscape.gradient_flow import GradientFlow
from gridscape.models import build_model
from gridscape.search.packs import plan_packs
from gridscape.train import seed_everything, train

VGG = {"name": "vgg", "num_filters": 4, "num_stages": 2, "blocks_per_stage": 1}


def study(**sections):
    return {"study": "t", **sections}


def tiny_images(n=96, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.integers(0, 60, (n, 1, 8, 8)).astype(np.uint8)
    for c in range(3):
        images[labels == c, :, c * 2 : c * 2 + 3, :] += 150
    return TensorData.from_arrays(images, labels, [0.3], [0.3], torch.device("cpu"))


def test_gradient_flow_has_one_row_per_weight_tensor_in_forward_order():
    seed_everything(0)
    model = build_model({**VGG, "block": "bn_rc"}, (1, 8, 8), 3)
    forward_order = []
    for name, module in model.named_modules():
        if getattr(module, "weight", None) is not None:
            module.register_forward_hook(lambda m, i, o, name=name: forward_order.append(name))
    flow = GradientFlow(model)
    data = tiny_images()
    images, labels = next(data.batches(96))  # one step per epoch: the mean is that step's
    loss = torch.nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    flow.after_backward()
    flow.end_epoch(1)
    frame = flow.frame()
    assert list(frame["layer"]) == forward_order
    assert list(frame["order"]) == list(range(len(forward_order)))
    parameters = dict(model.named_parameters())
    for _, row in frame.iterrows():
        expected = parameters[row["parameter"]].grad.abs().mean().item()
        assert row["mean_abs_grad"] == pytest.approx(expected, rel=1e-6)
        assert row["numel"] == parameters[row["parameter"]].numel()
    assert not any(name.endswith("bias") for name in frame["parameter"])


def test_gradient_flow_averages_the_steps_of_an_epoch():
    model = torch.nn.Linear(2, 1, bias=False)
    flow = GradientFlow(model)
    for grad in (1.0, 3.0):
        model.weight.grad = torch.full((1, 2), grad)
        flow.after_backward()
    flow.end_epoch(7)
    assert flow.rows == [{"epoch": 7, "order": 0, "layer": "weight", "parameter": "weight", "numel": 2, "mean_abs_grad": 2.0}]


def test_cosine_schedule_anneals_from_lr_to_min_lr_and_adam_trains():
    config = validate(study(
        model=VGG, optimizer={"name": "adam", "lr": 0.01, "schedule": "cosine", "min_lr": 0.001},
        train={"epochs": 4, "batch_size": 32, "channels_last": False},
        search={"axes": [{"key": "train.seed", "values": [0]}]},
    ))
    seed_everything(0)
    model = build_model(config["model"], (1, 8, 8), 3)
    result = train(model, tiny_images(), tiny_images(seed=1), config["optimizer"], config["train"], progress=False)
    expected = [0.001 + (0.01 - 0.001) * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)]
    assert [row["lr"] for row in result.history] == pytest.approx(expected, rel=1e-12)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_keep_best_keeps_the_first_epoch_of_highest_validation_accuracy():
    config = validate(study(model=VGG, optimizer={"name": "adam", "lr": 0.05}, train={"epochs": 5, "batch_size": 16}))
    seed_everything(1)
    model = build_model(config["model"], (1, 8, 8), 3)
    result = train(model, tiny_images(), tiny_images(seed=2), config["optimizer"], config["train"], progress=False, keep_best=True)
    accs = [row["val_acc"] for row in result.history]
    assert result.best_epoch == accs.index(max(accs)) + 1
    assert set(result.best_state) == set(model.state_dict())
    assert chosen_epoch(result.history, result.best_epoch, "last") == len(result.history)
    assert chosen_epoch(result.history, result.best_epoch, "best_val_acc") == result.best_epoch


def test_results_table_is_checked_against_the_histories():
    history = pd.DataFrame({"epoch": [1, 2], "train_loss": [2.0, 1.0], "train_acc": [0.2, 0.5],
                            "val_loss": [2.1, 1.5], "val_acc": [0.3, 0.4]})
    row = {"experiment": "a", "label": "A", "lr": 0.1, "parameters": 10, "status": "ok", "epochs_run": 2,
           "test_epoch": 2, "train_loss": 1.0, "train_acc": 0.5, "val_loss": 1.5, "val_acc": 0.4, "test_loss": 1.6,
           "test_acc": 0.41, "last_train_loss": 1.0, "last_train_acc": 0.5, "last_val_loss": 1.5, "last_val_acc": 0.4,
           "seconds": 1.0, "device": "cpu", "settings": {}, "initial_train_loss": 2.3, "initial_train_acc": 0.1,
           "initial_val_loss": 2.31, "initial_val_acc": 0.09}
    table = results_table([row])
    assert list(table.columns)[-7:] == ["initial_train_loss", "initial_train_acc", "initial_val_loss", "initial_val_acc",
                                        "n_train", "train_eval_loss", "train_eval_acc"]
    assert table[["n_train", "train_eval_acc"]].isna().all().all()  # a metrics.json from before they existed
    check_table_against_histories(table, {"a": history})
    table.loc[0, "val_acc"] = 0.3
    with pytest.raises(ValueError, match="results of a: val_acc 0.3 differs from its history"):
        check_table_against_histories(table, {"a": history})


def test_experiment_writes_its_files_and_tests_the_best_epoch(tmp_path):
    from gridscape.data import load_prepared, prepare
    from gridscape.data.split import stratified_split
    from gridscape.study import load_model, to_tensors
    from gridscape.train import evaluate

    prepare("digits", [], tmp_path / "digits.npz")
    data = load_prepared(tmp_path / "digits.npz")
    io.write_csv(tmp_path / "split.csv", stratified_split(data.train_labels, 0.2, 0))
    config = validate(study(
        device="cpu", dataset={"name": "digits"}, model={**VGG, "num_stages": 3},
        optimizer={"name": "adam", "lr": 0.01, "schedule": "cosine"}, train={"epochs": 3, "batch_size": 64},
        experiments={"runs": [{"name": "shallow", "set": {"model.blocks_per_stage": 0}}]},
    ))
    (experiment,) = experiment_runs(config)
    paths = [tmp_path / name for name in ("history.csv", "gradient_flow.csv", "model.safetensors", "metrics.json")]
    metrics = run_experiment(config, experiment, tmp_path / "digits.npz", tmp_path / "split.csv", *paths)
    history, flow = pd.read_csv(paths[0]), pd.read_csv(paths[1])
    assert list(history["epoch"]) == [1, 2, 3]
    best = int(history["val_acc"].idxmax()) + 1
    assert metrics["test_epoch"] == best and metrics["val_acc"] == history["val_acc"][best - 1]
    assert metrics["last_val_acc"] == history["val_acc"].iloc[-1]
    tensors = len(flow[flow["epoch"] == 1])
    assert len(flow) == 3 * tensors and tensors == 1 + 1 + 3 * 2 + 1  # entry conv + BN, 6 convs, linear
    model = load_model(experiment.apply(config), data, paths[2], torch.device("cpu"))
    test = to_tensors(data, "test", None, torch.device("cpu"), config["train"])
    assert evaluate(model, test, 1000) == (metrics["test_loss"], metrics["test_acc"])
    assert io.read_json(paths[3])["parameters"] == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    "config, key, expected",
    [
        (study(model={"name": "vgg", "activation": "tanh"}), "model.activation", "read only by model.name lenet5"),
        (study(model={"block": "bn"}), "model.block", "read only by model.name vgg"),
        (study(optimizer={"name": "adam", "momentum": 0.9}), "optimizer.momentum", "read only by optimizer.name sgd"),
        (study(optimizer={"name": "adam"}, search={"axes": [{"key": "optimizer.momentum", "values": [0.1, 0.5]}]}),
         "search.axes[0].key", "read only by optimizer.name sgd"),
        (study(experiments={"runs": [{"name": "a"}]}, search={"fuse": False}), "search", "expected no 'search' section"),
        (study(experiments={"runs": [{"name": "a"}]}, landscape={"chunks": 2}), "landscape", "expected no 'landscape' section"),
        (study(experiments={"runs": [{"name": "a"}, {"name": "a"}]}), "experiments.runs", "used twice"),
        (study(experiments={"runs": [{"name": "../a"}]}), "experiments.runs[0].name", "becomes the folder"),
        (study(experiments={"runs": [{"name": "a", "set": {"model.width": 3}}]}), "experiments.runs[0].set.model.width", "is not a key"),
        (study(experiments={"runs": [{"name": "a", "set": {"optimizer.lr": -1}}]}), "experiments.runs[0].set.optimizer.lr", "> 0"),
        (study(experiments={"runs": [{"name": "a", "set": {"dataset.name": "mnist"}}]}), "experiments.runs[0].set", "does not match"),
        (study(model={"name": "vgg"}, experiments={"runs": [{"name": "a", "set": {"model.activation": "tanh"}}]}),
         "experiments.runs[0].set.model.activation", "read only by model.name lenet5"),
        (study(experiments={"runs": [{"name": "a"}]}, figures={"gradient_flow_overlay": ["b"]}), "figures.gradient_flow_overlay", "names no experiment"),
        (study(optimizer={"schedule": "step"}), "optimizer.schedule", "cosine"),
        (study(train={"augmentation": ["crop5"]}), "train.augmentation[0]", "crop4"),
        (study(optimizer={"min_lr": 0.001}), "optimizer.min_lr", "read only by optimizer.schedule cosine"),
        (study(optimizer={"schedule": "cosine", "min_lr": 0.05}), "optimizer.min_lr", "expected the cosine schedule to end below"),
        (study(experiments={"test_epoch": "last"}), "experiments", "a study of kind 'search'"),
        (study(figures={"gradient_flow_overlay": ["a"]}), "figures.gradient_flow_overlay", "a study of kind 'search' does not use it"),
        (study(kind="exercises", search={"metric": "val_acc"}), "config key search", "expected no 'search' section"),
        (study(kind="exercises", dataset={"name": "digits"}), "config key dataset", "expected no 'dataset' section"),
        (study(kind="experiments"), "experiments.runs", "lists no run"),
        (study(kind="grid"), "config key kind", "expected one of search, experiments, exercises"),
        (study(experiments={"runs": [{"name": "a", "label": "x"}, {"name": "x"}]}), "experiments.runs", "expected distinct labels"),
        (study(dataset={"name": "mnist"}, model={"name": "vgg", "num_stages": 5}), "model.num_stages", "at most 4"),
    ],
)
def test_bad_experiment_config_names_the_key(config, key, expected):
    with pytest.raises(ConfigError) as error:
        validate(config)
    assert key in str(error.value)
    assert expected in str(error.value)


def test_experiments_apply_their_settings_over_the_study():
    config = validate(study(
        model={"name": "vgg", "blocks_per_stage": 5},
        experiments={"runs": [{"name": "VGG_08", "set": {"model.blocks_per_stage": 0}}, {"name": "VGG_38", "label": "VGG38 & co"}]},
    ))
    first, second = experiment_runs(config)
    assert first.apply(config)["model"]["blocks_per_stage"] == 0
    assert second.apply(config)["model"]["blocks_per_stage"] == 5
    assert (first.label, second.label) == ("VGG_08", "VGG38 & co")


def test_only_sgd_at_a_constant_rate_on_lenet_is_fused_or_shares_epochs():
    axes = [{"key": "optimizer.lr", "values": [0.1, 0.01]}, {"key": "train.epochs", "values": [1, 2]}]
    sgd = validate(study(search={"axes": axes}))
    assert [len(p.cells) for p in plan_packs(sgd, grid_cells(sgd), fuse=True)] == [4]
    cosine = validate(study(optimizer={"schedule": "cosine"}, search={"axes": axes}))
    assert [len(p.cells) for p in plan_packs(cosine, grid_cells(cosine), fuse=True)] == [1, 1, 1, 1]
    adam = validate(study(optimizer={"name": "adam"}, search={"axes": axes}))
    assert [len(p.cells) for p in plan_packs(adam, grid_cells(adam), fuse=True)] == [2, 2]
    vgg = validate(study(model={"name": "vgg"}, search={"axes": axes}))
    assert [len(p.cells) for p in plan_packs(vgg, grid_cells(vgg), fuse=True)] == [2, 2]


def test_report_calls_a_run_stuck_only_at_the_loss_of_a_uniform_guess():
    from gridscape.report.experiments_context import experiment_rows, gradient_summary

    config = validate(study(model={"name": "vgg"}, experiments={"runs": [{"name": "deep"}, {"name": "ok"}, {"name": "nan"}]}))
    flow = pd.DataFrame({"epoch": [1, 1, 1], "order": [0, 1, 2], "layer": ["a", "b", "c"],
                         "mean_abs_grad": [1e-15, 1e-9, 1e-3]})
    results = pd.DataFrame({"experiment": ["deep", "ok", "nan"], "label": ["deep", "ok", "nan"], "lr": [0.1, 0.1, 0.1],
                            "status": ["ok", "ok", "diverged"], "last_train_loss": [math.log(100) + 0.001, 2.0, math.nan],
                            "last_train_acc": [0.011, 0.4, 0.01]})
    rows = experiment_rows(config, results, {"deep": flow, "ok": flow, "nan": flow}, n_classes=100)
    assert [(r["stuck"], r["learning"], r["diverged"]) for r in rows] == [(True, False, False), (False, True, False), (False, False, True)]
    assert rows[0]["lr_trains_another"]  # "ok" learns at the same rate: the rate is not the cause
    assert rows[0]["model"]["depth"] == 8 and rows[0]["model"]["variant"] == "plain"
    summary = gradient_summary(flow)
    assert summary["orders"] == pytest.approx(12.0)
    assert (summary["first_layer"], summary["last_layer"]) == ("a", "c")


def test_the_report_chooses_the_best_model_by_validation_not_by_test():
    from gridscape.report.experiments_context import best_by_validation

    rows = [
        {"name": "a", "val_acc": 0.80, "test_acc": 0.90},  # best on the test set: never the criterion
        {"name": "b", "val_acc": 0.85, "test_acc": 0.82},
        {"name": "c", "val_acc": 0.85, "test_acc": 0.70},  # ties with b on validation: the first wins
        {"name": "d", "val_acc": math.nan, "test_acc": 0.95},
    ]
    assert best_by_validation(rows)["name"] == "b"


@pytest.mark.parametrize("path", ["config/config.yaml", "config/demo.yaml", "config/mlp-cw2-cifar100.yaml", "config/demo-vgg.yaml"])
def test_validate_accepts_its_own_output(path):
    import yaml
    from pathlib import Path

    raw = yaml.safe_load((Path(__file__).resolve().parents[1] / path).read_text())
    once = validate(raw)
    assert validate(once) == once


@pytest.mark.parametrize("first, last, says", [
    (1e-15, 1e-3, "12.0 orders of magnitude smaller than that of the output layer"),
    (1e2, 1e-3, "5.0 orders of magnitude larger than that of the output layer: the\ngradients grow on their way back (exploding gradients)"),
    (1e-4, 1e-3, "the first layer's mean\ngradient is within two orders of magnitude of the output layer's"),
])
def test_the_gradient_flow_text_follows_the_orders_of_magnitude_in_both_directions(first, last, says):
    from gridscape.report.experiments_context import gradient_summary
    from gridscape.report.latex import render

    flow = pd.DataFrame({"epoch": [1, 1], "order": [0, 1], "layer": ["conv0", "fc"], "mean_abs_grad": [first, last]})
    row = {"label": "net", "gradient": gradient_summary(flow), "stuck": False, "figure": ""}
    tex = render(Path(__file__).resolve().parents[1] / "workflow" / "report", "sections/experiments/gradient_flow.tex.j2",
                 {"experiments": [row], "figures": {"gradient_flow_overlay": ""}})
    assert says in tex
    others = {"smaller than that of the output layer", "(exploding gradients)", "within two orders of magnitude"}
    assert sum(phrase in tex for phrase in others) == 1


def test_the_discussion_compares_only_what_differs_and_proposes_from_the_numbers():
    from gridscape.report.experiments_discussion import discussion

    def row(label, lr, val, last_train, last_val, params, stuck=False, depth=38, variant="plain", epoch=10):
        return {"label": label, "lr": lr, "val_acc": val, "test_acc": val - 0.01, "last_train_acc": last_train,
                "last_val_acc": last_val, "params": params, "stuck": stuck, "learning": not stuck,
                "model": {"depth": depth, "variant": variant}, "test_epoch": epoch, "epochs_run": 10}

    rows = [
        row("VGG38", 1e-3, 0.01, 0.01, 0.01, {}, stuck=True),
        row("VGG38 BN", 1e-3, 0.45, 0.70, 0.45, {"model.block": "bn"}, variant="BatchNorm", epoch=7),
        row("VGG38 BN lr", 1e-2, 0.50, 0.55, 0.50, {"model.block": "bn", "optimizer.lr": 1e-2}, variant="BatchNorm"),
        row("VGG08", 1e-3, 0.48, 0.52, 0.48, {"model.blocks_per_stage": 0}, depth=8),
    ]
    # as experiments_topics.one_key_pairs gives the two runs that differ only in the rate
    pair = {"key": "optimizer.lr", "first": "VGG38 BN", "second": "VGG38 BN lr", "first_value": "0.001",
            "second_value": "0.01", "difference": 0.05, "se": 0.01, "z": 5.0, "real": True}
    result = discussion(rows, rows[2], epochs=10, rate_pairs=[pair])
    assert result["rate_pairs"] == [pair]
    assert [f["fixed"] for f in result["fixes"]] == ["VGG38 BN", "VGG38 BN lr"]  # VGG08 is not of that depth
    assert [g["label"] for g in result["large_gaps"]] == ["VGG38 BN"]
    further = " ".join(result["further"])
    assert "VGG38 BN lr was best at its last epoch (10)" in further
    assert "25.0 percentage points (VGG38 BN)" in further
    assert "Learning rate 0.01 validated better than 0.001 (VGG38 BN lr against VGG38 BN), beyond the noise" in further
    noise = discussion(rows, rows[2], epochs=10, rate_pairs=[{**pair, "difference": 0.005, "z": 0.5, "real": False}])
    assert "Learning rates 0.001 and 0.01 (VGG38 BN, VGG38 BN lr) validate within the noise" in " ".join(noise["further"])
    assert "Each experiment ran once" in further
    # a best model that peaked before the end gets no "train longer"
    assert "last epoch" not in " ".join(discussion(rows, rows[1], epochs=10)["further"])


@pytest.mark.parametrize("forms, says", [
    (["after_sum"], "applies its last LeakyReLU\nto the sum"),
    (["identity"], "so that the skip path is an exact identity"),
    (["identity", "after_sum"], "The experiments use both forms of the residual block"),
])
def test_the_report_says_which_residual_block_the_study_used(forms, says):
    from gridscape.report.latex import render

    experiments = [{"label": f"rc {form}", "model": {"residual": True, "residual_form": form, "batch_norm": False}}
                   for form in forms] + [{"label": "plain", "model": {"residual": False, "residual_form": None, "batch_norm": False}}]
    tex = render(Path(__file__).resolve().parents[1] / "workflow" / "report", "sections/experiments/fixes.tex.j2",
                 {"experiments": experiments, "learning": [], "stuck": [], "figures": {}})
    assert says in tex
    config = validate(study(model={"name": "vgg", "residual": "after_sum"},
                            experiments={"runs": [{"name": "plain"}, {"name": "rc", "set": {"model.block": "rc"}}]}))
    assert config["model"]["residual"] == "after_sum"  # a residual run gives the key a meaning
