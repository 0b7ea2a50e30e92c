# Random and staged search (search.method): each stage's space and plan drawn by one job, its
# trials trained a few per job, its table; then every trial's table and the best trial. A later
# stage's plan reads the table of the stage before, so `snakemake -n` lists every stage's jobs.


include: "common_of/trials.smk"


# Jobs of seconds run on the submitting host, not as one cluster job each (the SLURM profile).
localrules:
    plan_stage,
    unpack_trial,
    stage_table,
    aggregate_trials,
    choose_best,
    plot_curves_trials,


rule plan_stage:
    input:
        unpack(stage_inputs),
    output:
        space=declared("search/stages/{stage}/space.json"),
        plan=declared("search/stages/{stage}/plan.csv"),
    log:
        "results/{study}/logs/plan_stage/{stage}.log",
    conda:
        CONDA_ENV
    params:
        settings=stage_plan_settings,
    script:
        "../scripts/plan_stage.py"


rule train_trials:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
        space=batch_stage_file("space.json"),
        plan=batch_stage_file("plan.csv"),
    output:
        trials=directory("results/{study}/search/batches/{batch}"),
    log:
        "results/{study}/logs/train_trials/{batch}.log",
    benchmark:
        "results/{study}/benchmarks/train_trials/{batch}.tsv"
    conda:
        CONDA_ENV
    threads: heavy_threads(BATCHES_AT_ONCE)
    resources:
        gpu=is_gpu_job(),
    params:
        config=batch_config,
    script:
        "../scripts/train_trials.py"


rule unpack_trial:
    input:
        batch=lambda wildcards: f"results/{wildcards.study}/search/batches/{BATCH_OF_TRIAL[wildcards.trial]}",
    output:
        history="results/{study}/search/trials/{trial}/history.csv",
        metrics="results/{study}/search/trials/{trial}/metrics.json",
    log:
        "results/{study}/logs/unpack_trial/{trial}.log",
    conda:
        CONDA_ENV
    shell:
        "(cp {input.batch:q}/{wildcards.trial:q}/history.csv {output.history:q}"
        " && cp {input.batch:q}/{wildcards.trial:q}/metrics.json {output.metrics:q}) > {log:q} 2>&1"


rule stage_table:
    input:
        space="results/{study}/search/stages/{stage}/space.json",
        plan="results/{study}/search/stages/{stage}/plan.csv",
        metrics=stage_trial_files("metrics.json"),
    output:
        trials=declared("search/stages/{stage}/trials.csv"),
    log:
        "results/{study}/logs/stage_table/{stage}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/stage_table.py"


rule aggregate_trials:
    input:
        stages=expand(
            "results/{{study}}/search/stages/{stage}/trials.csv", stage=SEARCH_STAGES
        ),
    output:
        trials=declared("search/trials.csv"),
    log:
        "results/{study}/logs/aggregate_trials.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/aggregate_trials.py"


rule choose_best:
    input:
        trials=rules.aggregate_trials.output.trials,
        space=f"results/{{study}}/search/stages/{LAST_STAGE}/space.json",
    output:
        best=declared("search/best.json"),
    log:
        "results/{study}/logs/choose_best.log",
    conda:
        CONDA_ENV
    params:
        metric=config["search"]["metric"],
    script:
        "../scripts/choose_best_trial.py"


rule plot_curves_trials:
    input:
        histories=expand(
            "results/{{study}}/search/trials/{trial}/history.csv",
            trial=STAGE_TRIALS[LAST_STAGE],
        ),
    output:
        declared("figures/curves_trials"),
    log:
        "results/{study}/logs/plot_curves_trials.log",
    conda:
        CONDA_ENV
    params:
        labels=STAGE_TRIALS[LAST_STAGE],
        stage=LAST_STAGE,
    script:
        "../scripts/plot_curves_trials.py"
