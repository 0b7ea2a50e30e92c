# The module-level names and input functions of autoencoder.smk.

from gridscape.kinds.autoencoder import run_names

AUTOENCODER = config["autoencoder"]
RUNS = run_names(config)


wildcard_constraints:
    run="|".join(re.escape(name) for name in RUNS),
    architecture="|".join(re.escape(name) for name in AUTOENCODER["architectures"]),


def autoencoder_config(wildcards):
    """Everything that changes a run's results: retrain it when any of this changes (not the
    figures' settings: samples and mean_latent are read by the figures and the report too,
    but they also shape the run's files, so they count)."""
    return {
        "dataset": {"name": config["dataset"]["name"]},
        **{
            name: config[name]
            for name in ("split", "optimizer", "train", "device", "autoencoder")
        },
    }


def run_parts(wildcards):
    architecture, _, latent = wildcards.run.rpartition("_")
    return {"architecture": architecture, "latent": int(latent)}


def runs_of_architecture(wildcards):
    return [run for run in RUNS if run.rpartition("_")[0] == wildcards.architecture]
