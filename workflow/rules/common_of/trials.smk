# The module-level names and input functions of trials.smk.

from gridscape.data.registry import DATASETS
from gridscape.kinds.search_methods import stage_numbers, stage_specs
from gridscape.search.space import trial_name

SEARCH_STAGES = stage_numbers(config)
STAGE_SPECS = dict(zip(SEARCH_STAGES, stage_specs(config)))
LAST_STAGE = SEARCH_STAGES[-1]
STAGE_TRIALS = {
    stage: [trial_name(stage, index) for index in range(spec["trials"])]
    for stage, spec in STAGE_SPECS.items()
}
# search.trials_per_job trials of one stage share a job (folder search/batches/<batch>)
_PER_JOB = config["search"]["trials_per_job"]
BATCHES = {
    f"s{stage}b{start // _PER_JOB:03d}": (stage, names[start : start + _PER_JOB])
    for stage, names in STAGE_TRIALS.items()
    for start in range(0, len(names), _PER_JOB)
}
BATCH_OF_TRIAL = {
    trial: batch for batch, (_, trials) in BATCHES.items() for trial in trials
}


wildcard_constraints:
    stage="|".join(str(stage) for stage in SEARCH_STAGES),
    batch="|".join(BATCHES),
    trial="|".join(BATCH_OF_TRIAL),


def stage_inputs(wildcards):
    """A later stage is narrowed from the one before: its space and its trials' results."""
    stage = int(wildcards.stage)
    if stage == 1:
        return {}
    return {
        "previous_space": f"results/{wildcards.study}/search/stages/{stage - 1}/space.json",
        "previous_trials": f"results/{wildcards.study}/search/stages/{stage - 1}/trials.csv",
    }


def stage_plan_settings(wildcards):
    """What a stage's plan is drawn from: rerun the stage's plan (and so its trials) when it changes."""
    stage = int(wildcards.stage)
    return {
        "stage": stage,
        "spec": STAGE_SPECS[stage],
        "space": config["search"]["space"] if stage == 1 else None,
        "seed": config["search"]["seed"],
        "metric": config["search"]["metric"],
        "num_classes": DATASETS[config["dataset"]["name"]].num_classes,
    }


def batch_stage_file(name):
    def path(wildcards):
        stage = BATCHES[wildcards.batch][0]
        return f"results/{wildcards.study}/search/stages/{stage}/{name}"

    return path


def batch_config(wildcards):
    """Everything that changes a batch's trials besides its stage's plan (an input)."""
    return {"trials": list(BATCHES[wildcards.batch][1]), **training_config()}


def stage_trial_files(name):
    def paths(wildcards):
        return [
            f"results/{wildcards.study}/search/trials/{trial}/{name}"
            for trial in STAGE_TRIALS[int(wildcards.stage)]
        ]

    return paths
