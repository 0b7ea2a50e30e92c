# The module-level names and input functions of experiments.smk.

from gridscape.config.keys import get_key
from gridscape.kinds.experiments import experiment_runs

EXPERIMENTS = {run.name: run for run in experiment_runs(config)}


wildcard_constraints:
    experiment="|".join(re.escape(name) for name in EXPERIMENTS),


def experiment_config(wildcards):
    """Everything that changes an experiment's results: retrain it when any of this changes."""
    run_config = EXPERIMENTS[wildcards.experiment].apply(config)
    # only a study that draws subsets lists each run's images (the key is left out otherwise,
    # so that other studies' params, a rerun trigger, stay as they were)
    listing = {"train_indices": True} if INDEX_OUTPUT else {}
    return {
        **training_config(run_config),
        "experiments": {"test_epoch": config["experiments"]["test_epoch"], **listing},
    }


# the training images of each run, for studies that draw subsets (train.per_class): a study
# without them gains no output, so its finished experiments stay finished
INDEX_OUTPUT = (
    {"indices": "results/{study}/experiments/{experiment}/train_indices.csv"}
    if any(
        get_key(run.apply(config), "train.per_class") is not None
        for run in EXPERIMENTS.values()
    )
    else {}
)
SCALING_KEY = (config["figures"]["scaling"] or {}).get("key", "train.per_class")


def scaling_groups():
    """Each run's value of the data-size key (None: the whole training part)."""
    return {
        name: run.params.get(SCALING_KEY, get_key(config, SCALING_KEY))
        for name, run in EXPERIMENTS.items()
    }


def experiment_of(wildcards):
    return EXPERIMENTS[wildcards.experiment]
