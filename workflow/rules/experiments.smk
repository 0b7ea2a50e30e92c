# Named experiments (kind experiments): one training job each, then one table.
# Each job trains on the train split, validates every epoch, records the gradient flow and
# tests the model of the epoch that experiments.test_epoch names.


include: "common_of/experiments.smk"


# Jobs of seconds run on the submitting host, not as one cluster job each (the SLURM profile).
localrules:
    experiment_results,
    experiment_weight_stats,
    plot_experiment_curves,
    plot_gradient_flow,
    plot_gradient_flow_overlay,
    plot_weight_histograms,
    experiment_scaling,
    plot_scaling,


rule train_experiment:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
    output:
        **INDEX_OUTPUT,
        history="results/{study}/experiments/{experiment}/history.csv",
        gradient_flow="results/{study}/experiments/{experiment}/gradient_flow.csv",
        model=declared("experiments/{experiment}/model.safetensors"),
        metrics="results/{study}/experiments/{experiment}/metrics.json",
    log:
        "results/{study}/logs/train_experiment/{experiment}.log",
    benchmark:
        "results/{study}/benchmarks/train_experiment/{experiment}.tsv"
    # a job stopped by SIGTERM (a time limit, a preemption) exits 143 after its checkpoint:
    # rerun once, it resumes from there (src/gridscape/checkpoint.py)
    retries: 1
    conda:
        CONDA_ENV
    threads: heavy_threads(len(EXPERIMENTS))
    resources:
        gpu=is_gpu_job(),
    params:
        config=experiment_config,
        experiment=experiment_of,
    script:
        "../scripts/train_experiment.py"


rule experiment_results:
    input:
        metrics=expand(
            "results/{{study}}/experiments/{experiment}/metrics.json",
            experiment=list(EXPERIMENTS),
        ),
        histories=expand(
            "results/{{study}}/experiments/{experiment}/history.csv",
            experiment=list(EXPERIMENTS),
        ),
    output:
        results=declared("experiments/results.csv"),
    log:
        "results/{study}/logs/experiment_results.log",
    conda:
        CONDA_ENV
    params:
        # the config's labels: renaming an experiment rewrites the table, and retrains nothing
        labels=[run.label for run in EXPERIMENTS.values()],
    script:
        "../scripts/experiment_results.py"


rule plot_experiment_curves:
    input:
        histories=rules.experiment_results.input.histories,
    output:
        declared("figures/experiments_curves"),
    log:
        "results/{study}/logs/plot_experiment_curves.log",
    conda:
        CONDA_ENV
    params:
        labels=[run.label for run in EXPERIMENTS.values()],
    script:
        "../scripts/plot_experiment_curves.py"


rule plot_gradient_flow:
    input:
        gradient_flow=rules.train_experiment.output.gradient_flow,
    output:
        declared("figures/gradient_flow/{experiment}"),
    log:
        "results/{study}/logs/plot_gradient_flow/{experiment}.log",
    conda:
        CONDA_ENV
    params:
        label=lambda wildcards: EXPERIMENTS[wildcards.experiment].label,
    script:
        "../scripts/plot_gradient_flow.py"


rule plot_gradient_flow_overlay:
    input:
        gradient_flows=expand(
            "results/{{study}}/experiments/{experiment}/gradient_flow.csv",
            experiment=config["figures"]["gradient_flow_overlay"] or list(EXPERIMENTS),
        ),
    output:
        declared("figures/gradient_flow_overlay"),
    log:
        "results/{study}/logs/plot_gradient_flow_overlay.log",
    conda:
        CONDA_ENV
    params:
        labels=[
            EXPERIMENTS[name].label
            for name in config["figures"]["gradient_flow_overlay"] or list(EXPERIMENTS)
        ],
    script:
        "../scripts/plot_gradient_flow_overlay.py"


rule experiment_weight_stats:
    input:
        models=expand(
            "results/{{study}}/experiments/{experiment}/model.safetensors",
            experiment=list(EXPERIMENTS),
        ),
        gradient_flows=expand(
            "results/{{study}}/experiments/{experiment}/gradient_flow.csv",
            experiment=list(EXPERIMENTS),
        ),
    output:
        declared("experiments/weight_stats.csv"),
    log:
        "results/{study}/logs/experiment_weight_stats.log",
    conda:
        CONDA_ENV
    params:
        names=list(EXPERIMENTS),
    script:
        "../scripts/weight_stats.py"


rule plot_weight_histograms:
    input:
        models=expand(
            "results/{{study}}/experiments/{experiment}/model.safetensors",
            experiment=config["figures"]["weight_histograms"] or list(EXPERIMENTS),
        ),
        gradient_flows=expand(
            "results/{{study}}/experiments/{experiment}/gradient_flow.csv",
            experiment=config["figures"]["weight_histograms"] or list(EXPERIMENTS),
        ),
    output:
        declared("figures/weight_histograms"),
    log:
        "results/{study}/logs/plot_weight_histograms.log",
    conda:
        CONDA_ENV
    params:
        names=config["figures"]["weight_histograms"] or list(EXPERIMENTS),
        labels=[
            EXPERIMENTS[name].label
            for name in config["figures"]["weight_histograms"] or list(EXPERIMENTS)
        ],
    script:
        "../scripts/plot_weight_histograms.py"


rule experiment_scaling:
    input:
        results=rules.experiment_results.output.results,
    output:
        declared("experiments/scaling.csv"),
    log:
        "results/{study}/logs/experiment_scaling.log",
    conda:
        CONDA_ENV
    params:
        key=SCALING_KEY,
        groups=scaling_groups(),
    script:
        "../scripts/experiment_scaling.py"


rule plot_scaling:
    input:
        table=rules.experiment_scaling.output[0],
    output:
        declared("figures/scaling"),
    log:
        "results/{study}/logs/plot_scaling.log",
    conda:
        CONDA_ENV
    params:
        n_classes=DATASET.num_classes,
    script:
        "../scripts/plot_scaling.py"
