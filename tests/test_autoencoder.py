"""The autoencoder kind (NUS CS5242 assignment 2, questions 2 and 3): the handout's parameter
counts, the assumed convolutional one's shapes, the config's refusals, and a demo-size study
through the whole workflow: its files, the mean code, the code sizes compared."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from gridscape.autoencoders.models import build_autoencoder, convolutional, fully_connected, parameters_of
from gridscape.config import ConfigError, validate
from gridscape.kinds.autoencoder import run_names
from test_workflow import run_snakemake, write_config

REPO = Path(__file__).resolve().parents[1]


def study(**sections):
    return {"study": "ae", "kind": "autoencoder", "dataset": {"name": "mnist"},
            "train": {"normalization": "none"}, **sections}


@pytest.mark.parametrize("latent, expected", [(2, 328_008), (32, 330_978)])
def test_the_handouts_fully_connected_autoencoder_has_its_parameter_count(latent, expected):
    model = fully_connected((1, 28, 28), latent, [196, 49], "relu")
    assert parameters_of(model) == expected
    linear = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [
        (784, 196), (196, 49), (49, latent), (latent, 49), (49, 196), (196, 784)]
    # ReLU after every layer, the code and the output included
    assert sum(isinstance(m, torch.nn.ReLU) for m in model.modules()) == 6


@pytest.mark.parametrize("in_shape", [(1, 28, 28), (1, 32, 32), (3, 32, 32)])
def test_the_convolutional_autoencoder_returns_images_of_the_input_shape(in_shape):
    model = convolutional(in_shape, 2, [16, 32], 3, "relu")
    images = torch.rand(5, *in_shape)
    codes = model.encode(images)
    assert codes.shape == (5, 2) and (codes >= 0).all()
    assert model(images).shape == (5, *in_shape)
    assert model.decode(codes).shape == (5, *in_shape)


def test_the_config_names_what_is_wrong():
    cases = [
        (study(autoencoder={"latent_sizes": [0, 32]}), "autoencoder.latent_sizes[0]"),
        (study(autoencoder={"latent_sizes": [2, 2]}), "autoencoder.latent_sizes"),
        (study(train={"normalization": "dataset"}), "train.normalization"),
        (study(autoencoder={"architectures": {"conv": {"channels": [8, 16, 32]}}}), "autoencoder.architectures.conv.channels"),
        (study(autoencoder={"architectures": {"fc": {"hidden": [64]}}, "mean_latent": ["conv"]}), "autoencoder.mean_latent"),
        (study(autoencoder={"architectures": {}}), "autoencoder.architectures"),
        (study(model={"name": "lenet5"}), "config key model"),
        ({"study": "s", "kind": "search", "autoencoder": {"latent_sizes": [2]}}, "config key autoencoder"),
    ]
    for config, key in cases:
        with pytest.raises(ConfigError) as error:
            validate(config)
        assert key in str(error.value), str(error.value)


def test_runs_are_architecture_by_latent_size():
    config = validate(study())
    assert run_names(config) == ["fc_2", "fc_32", "conv_2", "conv_32"]


DEMO = yaml.safe_load((REPO / "config" / "demo-autoencoder.yaml").read_text())


@pytest.fixture(scope="module")
def ae_study(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("autoencoder")
    config = {**DEMO, "device": "cpu", "train": {**DEMO["train"], "epochs": 8}}
    write_config(workdir, config)
    run_snakemake(workdir)
    return workdir / "results" / DEMO["study"]


def test_every_run_writes_its_files_and_learns(ae_study):
    table = pd.read_csv(ae_study / "autoencoders" / "results.csv")
    assert list(table["run"]) == ["fc_2", "fc_32", "conv_2", "conv_32"]
    assert (table["status"] == "ok").all() and (table["epochs_run"] == 8).all()
    for run in table["run"]:
        folder = ae_study / "autoencoders" / run
        history = pd.read_csv(folder / "history.csv")
        assert list(history.columns) == ["epoch", "train_loss", "test_loss", "lr", "seconds"]
        assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["test_loss"] == history["test_loss"].iloc[-1]
        latents = np.load(folder / "latents.npz", allow_pickle=False)
        latent = int(run.rpartition("_")[2])
        assert latents["z"].shape == (metrics["n_train"], latent) and latents["labels"].shape == (metrics["n_train"],)
        assert metrics["dead_latents"] == int((latents["z"].max(axis=0) <= 0).sum())
        mean = json.loads((folder / "mean_latent.json").read_text())
        assert np.allclose(mean["mu"], latents["z"].astype(np.float64).mean(axis=0), atol=1e-6)
        assert mean["n"] == metrics["n_train"]
        samples = np.load(folder / "samples.npz", allow_pickle=False)
        assert samples["inputs"].shape == samples["outputs"].shape == (3, 1, 32, 32)
        decoded = np.load(folder / "mean_decoded.npz", allow_pickle=False)
        assert decoded["image"].shape == decoded["mean_image"].shape == (1, 32, 32)


def test_a_larger_code_reconstructs_better_for_each_architecture(ae_study):
    table = pd.read_csv(ae_study / "autoencoders" / "results.csv").set_index("run")
    for architecture in ("fc", "conv"):
        assert table.loc[f"{architecture}_32", "test_loss"] < table.loc[f"{architecture}_2", "test_loss"]


def test_the_report_and_figures_say_it_from_the_files(ae_study):
    for name in ("ae_loss", "ae_fc", "ae_conv", "ae_mean_latent", "ae_latent_2d"):
        assert (ae_study / "figures" / f"{name}.pdf").stat().st_size > 1000, name
    text = subprocess.run(["pdftotext", str(ae_study / "report" / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    table = pd.read_csv(ae_study / "autoencoders" / "results.csv")
    for parameters in table["parameters"]:
        assert f"{parameters:,}".replace(",", " ") in text.replace("\u2009", " ") or str(parameters) in text
    assert "is an assumption" in text and "Assumptions and notes" in text
    assert "The mean code" in text


def test_a_zero_output_bias_keeps_the_convolutional_decoder_alive_at_the_start():
    """With PyTorch's own last bias the seed-0 convolutional autoencoder (code of 32, digits'
    32x32) outputs zero on every pixel before any step: its ReLU output is dead and no gradient
    flows. With the zero bias gridscape starts from, a share of the pixels is alive (15 % here)."""
    from gridscape.train import seed_everything

    images = torch.rand(64, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    alive = {}
    for bias in ("default", "zero"):
        seed_everything(0)
        model = build_autoencoder("conv", {"channels": [16, 32], "kernel": 3}, (1, 32, 32), 32, "relu", bias)
        with torch.no_grad():
            alive[bias] = float((model(images) > 0).float().mean())
    assert alive["default"] == 0.0
    assert alive["zero"] > 0.1
