# Named experiments (a study with experiments.runs): one training job each, then one table.
# Each job trains on the train split, validates every epoch, records the gradient flow and
# tests the model of the epoch that experiments.test_epoch names.


rule train_experiment:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
    output:
        history="results/{study}/experiments/{experiment}/history.csv",
        gradient_flow="results/{study}/experiments/{experiment}/gradient_flow.csv",
        model="results/{study}/experiments/{experiment}/model.safetensors",
        metrics="results/{study}/experiments/{experiment}/metrics.json",
    log:
        "results/{study}/logs/train_experiment/{experiment}.log",
    benchmark:
        "results/{study}/benchmarks/train_experiment/{experiment}.tsv"
    params:
        config=experiment_config,
        experiment=experiment_of,
    threads: 2
    resources:
        gpu=is_gpu_job(),
    conda:
        CONDA_ENV
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
        results=report(
            "results/{study}/experiments/results.csv",
            caption="../report/experiment_results.rst",
            category="Experiments",
            subcategory="Tables",
            labels={"result": "results table"},
        ),
    log:
        "results/{study}/logs/experiment_results.log",
    params:
        # the config's labels: renaming an experiment rewrites the table, and retrains nothing
        labels=[cell.label for cell in EXPERIMENTS.values()],
    conda:
        CONDA_ENV
    script:
        "../scripts/experiment_results.py"


rule plot_experiment_curves:
    input:
        histories=rules.experiment_results.input.histories,
    output:
        report(
            "results/{study}/figures/experiments_curves.png",
            caption="../report/experiments_curves.rst",
            category="Experiments",
            subcategory="Curves",
            labels={"result": "learning curves"},
        ),
        "results/{study}/figures/experiments_curves.pdf",
    log:
        "results/{study}/logs/plot_experiment_curves.log",
    params:
        labels=[cell.label for cell in EXPERIMENTS.values()],
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_experiment_curves.py"


rule plot_gradient_flow:
    input:
        gradient_flow=rules.train_experiment.output.gradient_flow,
    output:
        report(
            "results/{study}/figures/gradient_flow/{experiment}.png",
            caption="../report/gradient_flow.rst",
            category="Experiments",
            subcategory="Gradient flow",
            labels={"experiment": "{experiment}"},
        ),
        "results/{study}/figures/gradient_flow/{experiment}.pdf",
    log:
        "results/{study}/logs/plot_gradient_flow/{experiment}.log",
    params:
        label=lambda wildcards: EXPERIMENTS[wildcards.experiment].label,
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_gradient_flow.py"


rule plot_gradient_flow_overlay:
    input:
        gradient_flows=expand(
            "results/{{study}}/experiments/{experiment}/gradient_flow.csv",
            experiment=config["figures"]["gradient_flow_overlay"] or list(EXPERIMENTS),
        ),
    output:
        report(
            "results/{study}/figures/gradient_flow_overlay.png",
            caption="../report/gradient_flow_overlay.rst",
            category="Experiments",
            subcategory="Gradient flow",
            labels={"experiment": "overlay"},
        ),
        "results/{study}/figures/gradient_flow_overlay.pdf",
    log:
        "results/{study}/logs/plot_gradient_flow_overlay.log",
    params:
        labels=[
            EXPERIMENTS[name].label
            for name in config["figures"]["gradient_flow_overlay"] or list(EXPERIMENTS)
        ],
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_gradient_flow_overlay.py"
