# The module-level names and input functions of exercises.smk.

EXERCISES = config["exercises"]
TRAJECTORIES = {run["name"]: run for run in EXERCISES["trajectories"]}


wildcard_constraints:
    name="|".join(re.escape(name) for name in TRAJECTORIES),


def trajectory_spec(wildcards):
    return TRAJECTORIES[wildcards.name]
