# The module-level names and input functions of autoencoder.smk.

from gridscape.kinds.autoencoder import run_names

AUTOENCODER = config["autoencoder"]
RUNS = run_names(config)
# the runs whose mean code a figure decodes, and those with two-dimensional codes
MEAN_LATENT_RUNS = [
    run for run in RUNS if run.rpartition("_")[0] in AUTOENCODER["mean_latent"]
]
TWO_DIMENSIONAL_RUNS = [run for run in RUNS if run.rpartition("_")[2] == "2"]


wildcard_constraints:
    run="|".join(re.escape(name) for name in RUNS),
    architecture="|".join(re.escape(name) for name in AUTOENCODER["architectures"]),


def autoencoder_config(wildcards):
    """Everything that changes this run's results: retrain it when any of this changes. Not
    the other code sizes or architectures, and not autoencoder.mean_latent (read by a figure).
    """
    architecture = run_parts(wildcards)["architecture"]
    section = {
        key: value
        for key, value in AUTOENCODER.items()
        if key not in ("latent_sizes", "mean_latent", "architectures")
    }
    section["architectures"] = {
        architecture: AUTOENCODER["architectures"][architecture]
    }
    return {
        "dataset": {"name": config["dataset"]["name"]},
        **{name: config[name] for name in ("split", "optimizer", "train", "device")},
        "autoencoder": section,
    }


def run_parts(wildcards):
    architecture, _, latent = wildcards.run.rpartition("_")
    return {"architecture": architecture, "latent": int(latent)}


def runs_of_architecture(wildcards):
    return [run for run in RUNS if run.rpartition("_")[0] == wildcards.architecture]
