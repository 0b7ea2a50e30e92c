# The final model: retrained with the best values, then evaluated on the test set.


rule train_final:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
        best=rules.choose_best.output.best,
    output:
        model="results/{study}/final/model.safetensors",
        init="results/{study}/final/init.safetensors",
        history="results/{study}/final/history.csv",
    log:
        "results/{study}/logs/train_final.log",
    benchmark:
        "results/{study}/benchmarks/train_final.tsv"
    params:
        config=training_config(),
        train_on=config["final"]["train_on"],
    threads: 2
    resources:
        gpu=is_gpu_job(),
    conda:
        CONDA_ENV
    script:
        "../scripts/train_final.py"


rule evaluate_final:
    input:
        data=rules.prepare.output[0],
        model=rules.train_final.output.model,
        best=rules.choose_best.output.best,
    output:
        metrics=report(
            "results/{study}/final/metrics.json",
            caption="../report/metrics.rst",
            category="Final model",
            subcategory="Metrics",
            labels={"result": "test metrics"},
        ),
    log:
        "results/{study}/logs/evaluate_final.log",
    benchmark:
        "results/{study}/benchmarks/evaluate_final.tsv"
    params:
        config=training_config(),
    threads: 2
    resources:
        gpu=is_gpu_job(),
    conda:
        CONDA_ENV
    script:
        "../scripts/evaluate_final.py"
