# The final model: its settings resolved once from the best cell, retrained with them, tested
# on the test set; its curves, its layer table and its predictions for a few test images.


include: "common_of/final.smk"


# Jobs of seconds run on the submitting host, not as one cluster job each (the SLURM profile).
localrules:
    final_weight_stats,
    model_summary,
    plot_curves_final,
    predict_test,


rule resolve_final:
    input:
        best=rules.choose_best.output.best,
    output:
        final=declared("final/config.json"),
    log:
        "results/{study}/logs/resolve_final.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        config=training_config(),
        train_on=config["final"]["train_on"],
    script:
        "../scripts/resolve_final.py"


rule train_final:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
        final=rules.resolve_final.output.final,
    output:
        **FINAL_NORMALISATION,
        model=declared("final/model.safetensors"),
        init="results/{study}/final/init.safetensors",
        history="results/{study}/final/history.csv",
    log:
        "results/{study}/logs/train_final.log",
    benchmark:
        "results/{study}/benchmarks/train_final.tsv"
    # a job stopped by SIGTERM (a time limit, a preemption) exits 143 after its checkpoint:
    # rerun once, it resumes from there (src/gridscape/checkpoint.py)
    retries: 1
    conda:
        CONDA_ENV
    threads: heavy_threads()
    resources:
        gpu=is_gpu_job(),
    params:
        device=config["device"],
    script:
        "../scripts/train_final.py"


rule evaluate_final:
    input:
        **FINAL_NORMALISATION,
        data=rules.prepare.output[0],
        model=rules.train_final.output.model,
        init=rules.train_final.output.init,
        final=rules.resolve_final.output.final,
    output:
        metrics=declared("final/metrics.json"),
    log:
        "results/{study}/logs/evaluate_final.log",
    benchmark:
        "results/{study}/benchmarks/evaluate_final.tsv"
    conda:
        CONDA_ENV
    threads: heavy_threads()
    resources:
        gpu=is_gpu_job(),
    params:
        device=config["device"],
    script:
        "../scripts/evaluate_final.py"


rule model_summary:
    input:
        final=rules.resolve_final.output.final,
        model=rules.train_final.output.model,
    output:
        csv=declared("report/model_summary.csv"),
        check="results/{study}/report/forward_check.json",
    log:
        "results/{study}/logs/model_summary.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/report_model_summary.py"


rule plot_curves_final:
    input:
        history=rules.train_final.output.history,
        metrics=rules.evaluate_final.output.metrics,
    output:
        declared("figures/curves_final"),
    log:
        "results/{study}/logs/plot_curves_final.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_curves_final.py"


rule final_weight_stats:
    input:
        models=[rules.train_final.output.model],
        summary=rules.model_summary.output.csv,
    output:
        declared("final/weight_stats.csv"),
    log:
        "results/{study}/logs/final_weight_stats.log",
    conda:
        CONDA_ENV
    params:
        names=["final"],
    script:
        "../scripts/weight_stats.py"


rule predict_test:
    input:
        **FINAL_NORMALISATION,
        data=rules.prepare.output[0],
        final=rules.resolve_final.output.final,
        model=rules.train_final.output.model,
    output:
        predictions=declared("final/predictions.csv"),
        figure=declared("figures/test_predictions"),
    log:
        "results/{study}/logs/predict_test.log",
    conda:
        CONDA_ENV
    threads: 1
    params:
        images=config["figures"]["test_predictions"],
    script:
        "../scripts/predict_test.py"
