"""The autoencoder kind (NUS CS5242 assignment 2, questions 2 and 3): fully connected and
convolutional autoencoders for each latent size, trained with an L1 (or MSE) reconstruction
loss; the codes of the training images, their mean decoded, and reconstructions of test images."""

from __future__ import annotations

from typing import Mapping

from gridscape.config.errors import ConfigError
from gridscape.data.registry import DATASETS

from .base import Run, StudyKind, figure, result
from .common import DATA_OUTPUTS, DATASET_SECTIONS, REPORT_OUTPUTS

# An autoencoder has no model section (its architectures are its own) and no classifier's figures.
SECTIONS = (DATASET_SECTIONS - {"model"}) | {"autoencoder"}


def run_names(config: Mapping) -> list[str]:
    """The runs, {architecture}_{latent size}, architectures in the config's order."""
    section = config["autoencoder"]
    return [f"{architecture}_{latent}" for architecture in section["architectures"] for latent in section["latent_sizes"]]


def autoencoder_runs(config: Mapping) -> list[Run]:
    """One run per architecture and code size; they share the study's training settings (the
    config check sees each, as it sees a grid's cells)."""
    return [Run(name=name, params={}, where=f"autoencoder run {name}") for name in run_names(config)]


def check(config: Mapping, schema: Mapping) -> None:
    """At least one architecture; distinct latent sizes; pixels on the [0, 1] scale; the
    convolutional one's strides fit the images; mean_latent names architectures."""
    section = config["autoencoder"]
    if not section["architectures"]:
        raise ConfigError("config key autoencoder.architectures: none given; expected fc, conv or both")
    sizes = section["latent_sizes"]
    if len(set(sizes)) != len(sizes):
        raise ConfigError(f"config key autoencoder.latent_sizes: {sizes} repeats a size; expected distinct sizes")
    if config["train"]["normalization"] != "none":
        raise ConfigError(
            f"config key train.normalization: {config['train']['normalization']!r}; an autoencoder reconstructs pixels "
            "on the [0, 1] scale (its loss is per pixel there), expected none"
        )
    conv = section["architectures"].get("conv")
    if conv is not None:
        _, height, width = DATASETS[config["dataset"]["name"]].in_shape
        scale = 2 ** len(conv["channels"])
        if height % scale or width % scale:
            raise ConfigError(
                f"config key autoencoder.architectures.conv.channels: {len(conv['channels'])} stride-2 layers halve the "
                f"{height}x{width} images {len(conv['channels'])} times; expected at most "
                f"{_halvings(min(height, width))} entries"
            )
    unknown = [name for name in section["mean_latent"] if name not in section["architectures"]]
    if unknown:
        raise ConfigError(
            f"config key autoencoder.mean_latent: {', '.join(map(repr, unknown))} is not an architecture of "
            f"autoencoder.architectures; expected some of {', '.join(section['architectures'])}"
        )


def _halvings(side: int) -> int:
    count = 0
    while side % 2 == 0 and side > 1:
        side //= 2
        count += 1
    return count


def run_wildcards(config: Mapping) -> dict[str, list[str]]:
    return {"run": run_names(config)}


def architecture_wildcards(config: Mapping) -> dict[str, list[str]]:
    return {"architecture": list(config["autoencoder"]["architectures"])}


def has_mean_latent(config: Mapping) -> bool:
    return bool(config["autoencoder"]["mean_latent"])


def has_two_dimensional_codes(config: Mapping) -> bool:
    return 2 in config["autoencoder"]["latent_sizes"]


OUTPUTS = (
    *DATA_OUTPUTS,
    result("autoencoders/results.csv", "autoencoder_results", "Autoencoders", "Tables", "results table"),
    result("autoencoders/{run}/model.safetensors", wildcards=run_wildcards),
    figure("ae_loss", "Autoencoders", "Curves", "loss of every run"),
    figure("ae_{architecture}", "Autoencoders", "Reconstructions", "", caption="ae_architecture",
           labels={"architecture": "{architecture}"}, wildcards=architecture_wildcards),
    figure("ae_mean_latent", "Autoencoders", "Mean code", "decoded mean code", when=has_mean_latent),
    figure("ae_latent_2d", "Autoencoders", "Codes", "two-dimensional codes", when=has_two_dimensional_codes),
    *REPORT_OUTPUTS,
)


def report_inputs(config: Mapping) -> dict:
    runs = run_names(config)
    return {
        "counts": "results/{study}/data/class_counts.csv",
        "results": "results/{study}/autoencoders/results.csv",
        "histories": [f"results/{{study}}/autoencoders/{run}/history.csv" for run in runs],
        "mean_latents": [f"results/{{study}}/autoencoders/{run}/mean_latent.json" for run in runs],
        "layers": [f"results/{{study}}/autoencoders/{run}/layers.csv" for run in runs],
    }


AUTOENCODER = StudyKind(
    name="autoencoder",
    description="autoencoders for each architecture and latent size, their codes and reconstructions",
    sections=SECTIONS,
    check=check,
    rules=("data.smk", "figures.smk", "autoencoder.smk"),
    outputs=OUTPUTS,
    report_inputs=report_inputs,
    build_context="gridscape.report.autoencoder_context:context_from_files",
    summary="gridscape.summary.autoencoder:summarise",
    report_template="autoencoder_report.tex.j2",
    landing="workflow-autoencoder.rst",
    ignored_keys=("figures.gradient_flow_overlay", "figures.weight_histograms", "figures.scaling", "train.per_class",
                  "figures.test_predictions"),
    runs=autoencoder_runs,
)
