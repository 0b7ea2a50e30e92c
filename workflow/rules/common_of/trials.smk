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
# the jobs of one stage can run at once (a stage waits for the one before)
BATCHES_AT_ONCE = max(
    sum(stage == batch_stage for batch_stage, _ in BATCHES.values())
    for stage in SEARCH_STAGES
)
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
    """What a stage's plan is drawn from: rerun the stage's plan (and so its trials) when it
    changes. The first stage draws from the config's space; a later one narrows the space
    before it, around the trials the metric ranks best."""
    stage = int(wildcards.stage)
    spec = dict(STAGE_SPECS[stage])
    if stage == 1:
        spec.pop("keep_top", None)
        return {
            "stage": 1,
            "spec": spec,
            "space": config["search"]["space"],
            "seed": config["search"]["seed"],
        }
    return {
        "stage": stage,
        "spec": spec,
        "seed": config["search"]["seed"],
        "metric": config["search"]["metric"],
        "num_classes": DATASETS[config["dataset"]["name"]].num_classes,
    }


def batch_stage_file(name):
    def path(wildcards):
        stage = BATCHES[wildcards.batch][0]
        return f"results/{wildcards.study}/search/stages/{stage}/{name}"

    return path


# the keys every trial sets from its plan (an input): the study's own values of them change no trial
SEARCHED_KEYS = [entry["key"] for entry in config["search"]["space"]] + ["train.epochs"]


def batch_config(wildcards):
    """Everything that changes a batch's trials besides its stage's plan."""
    settings = training_config()
    for key in SEARCHED_KEYS:
        section, _, option = key.partition(".")
        settings[section] = {k: v for k, v in settings[section].items() if k != option}
    return {"trials": list(BATCHES[wildcards.batch][1]), **settings}


def stage_trial_files(name):
    def paths(wildcards):
        return [
            f"results/{wildcards.study}/search/trials/{trial}/{name}"
            for trial in STAGE_TRIALS[int(wildcards.stage)]
        ]

    return paths
