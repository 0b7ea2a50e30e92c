# Worked exercises without a dataset (kind exercises): each answer computed from the config by
# one rule, then drawn. Question 1: optimiser traces on 1-D functions and the escape scan;
# question 4: six layers against torch; question 6: receptive fields.


include: "common_of/exercises.smk"


# Jobs of seconds run on the submitting host, not as one cluster job each (the SLURM profile).
localrules:
    exercise_trajectory,
    exercise_check,
    exercise_escape,
    exercise_receptive_field,
    exercise_ops,
    plot_exercise_trajectory,
    plot_exercise_escape,
    plot_exercise_functions,


rule exercise_trajectory:
    output:
        csv=declared("exercises/trajectories/{name}.csv"),
    log:
        "results/{study}/logs/exercise_trajectory/{name}.log",
    conda:
        CONDA_ENV
    params:
        spec=trajectory_spec,
        functions=EXERCISES["functions"],
    script:
        "../scripts/exercise_trajectory.py"


rule exercise_check:
    output:
        csv=declared("exercises/trajectories/check.csv"),
    log:
        "results/{study}/logs/exercise_check.log",
    conda:
        CONDA_ENV
    threads: 1
    params:
        trajectories=EXERCISES["trajectories"],
        functions=EXERCISES["functions"],
    script:
        "../scripts/exercise_check.py"


rule exercise_escape:
    output:
        csv=declared("exercises/escape.csv"),
        json=declared("exercises/escape.json"),
    log:
        "results/{study}/logs/exercise_escape.log",
    benchmark:
        "results/{study}/benchmarks/exercise_escape.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
    params:
        escape=EXERCISES["escape"],
        functions=EXERCISES["functions"],
    script:
        "../scripts/exercise_escape.py"


rule exercise_receptive_field:
    output:
        csv=declared("exercises/receptive_field.csv"),
    log:
        "results/{study}/logs/exercise_receptive_field.log",
    conda:
        CONDA_ENV
    threads: 1
    params:
        rows=EXERCISES["receptive_field"]["rows"],
    script:
        "../scripts/exercise_receptive_field.py"


rule exercise_ops:
    output:
        csv=declared("exercises/ops.csv"),
        npz=declared("exercises/ops_inputs.npz"),
    log:
        "results/{study}/logs/exercise_ops.log",
    conda:
        CONDA_ENV
    threads: 1
    params:
        ops=EXERCISES["ops"],
    script:
        "../scripts/exercise_ops.py"


rule plot_exercise_trajectory:
    input:
        csv=rules.exercise_trajectory.output.csv,
    output:
        declared("figures/trajectory/{name}"),
    log:
        "results/{study}/logs/plot_exercise_trajectory/{name}.log",
    conda:
        CONDA_ENV
    params:
        title=lambda wildcards: f"{wildcards.name}: {TRAJECTORIES[wildcards.name]['optimizer']} on {TRAJECTORIES[wildcards.name]['function']}",
    script:
        "../scripts/plot_exercise_trajectory.py"


rule plot_exercise_escape:
    input:
        csv=rules.exercise_escape.output.csv,
        json=rules.exercise_escape.output.json,
    output:
        declared("figures/escape"),
    log:
        "results/{study}/logs/plot_exercise_escape.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_exercise_escape.py"


rule plot_exercise_functions:
    output:
        declared("figures/functions"),
    log:
        "results/{study}/logs/plot_exercise_functions.log",
    conda:
        CONDA_ENV
    params:
        functions=EXERCISES["functions"],
    script:
        "../scripts/plot_exercise_functions.py"
