# The grid search: cells are trained in packs (one job each), then one table and the best.
# A pack is the set of cells that share a training run: see search.fuse in the schema.


include: "common_of/search.smk"


# Jobs of seconds run on the submitting host, not as one cluster job each (the SLURM profile).
localrules:
    aggregate_grid,
    grid_trials,
    choose_best,
    plot_grid,
    plot_curves_grid,


rule train_pack:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
    output:
        cells=directory("results/{study}/search/packs/{pack}"),
    log:
        "results/{study}/logs/train_pack/{pack}.log",
    benchmark:
        "results/{study}/benchmarks/train_pack/{pack}.tsv"
    # a job stopped by SIGTERM (a time limit, a preemption) exits 143 after its checkpoint:
    # rerun once, it resumes from there (src/gridscape/checkpoint.py)
    retries: 1
    conda:
        CONDA_ENV
    threads: heavy_threads(len(PACKS))
    resources:
        gpu=is_gpu_job(),
    params:
        config=pack_config,
        pack=pack_of,
    script:
        "../scripts/train_pack.py"


rule unpack_cell:
    input:
        pack=pack_dir_of_cell,
    output:
        history="results/{study}/search/cells/{cell}/history.csv",
        metrics="results/{study}/search/cells/{cell}/metrics.json",
        predictions="results/{study}/search/cells/{cell}/val_predictions.npz",
    log:
        "results/{study}/logs/unpack_cell/{cell}.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "(cp {input.pack:q}/{wildcards.cell:q}/history.csv {output.history:q}"
        " && cp {input.pack:q}/{wildcards.cell:q}/metrics.json {output.metrics:q}"
        " && cp {input.pack:q}/{wildcards.cell:q}/val_predictions.npz {output.predictions:q}) > {log:q} 2>&1"


rule aggregate_grid:
    input:
        metrics=expand(
            "results/{{study}}/search/cells/{cell}/metrics.json", cell=list(CELLS)
        ),
    output:
        grid=declared("search/grid.csv"),
    log:
        "results/{study}/logs/aggregate_grid.log",
    conda:
        CONDA_ENV
    params:
        axis_keys=AXIS_KEYS,
    script:
        "../scripts/aggregate_grid.py"


rule grid_trials:
    input:
        grid=rules.aggregate_grid.output.grid,
        metrics=rules.aggregate_grid.input.metrics,
    output:
        trials=declared("search/trials.csv"),
        space=declared("search/stages/1/space.json"),
    log:
        "results/{study}/logs/grid_trials.log",
    conda:
        CONDA_ENV
    params:
        axes=config["search"]["axes"],
        epochs=config["train"]["epochs"],
        cells=list(CELLS),
    script:
        "../scripts/grid_trials.py"


rule choose_best:
    input:
        grid=rules.aggregate_grid.output.grid,
        metrics=expand(
            "results/{{study}}/search/cells/{cell}/metrics.json", cell=list(CELLS)
        ),
        predictions=expand(
            "results/{{study}}/search/cells/{cell}/val_predictions.npz",
            cell=list(CELLS),
        ),
    output:
        best=declared("search/best.json"),
    log:
        "results/{study}/logs/choose_best.log",
    conda:
        CONDA_ENV
    params:
        axes=config["search"]["axes"],
        metric=config["search"]["metric"],
    script:
        "../scripts/choose_best.py"


rule plot_grid:
    input:
        grid=rules.aggregate_grid.output.grid,
        best=rules.choose_best.output.best,
    output:
        loss=declared("figures/grid_val_loss"),
        acc=declared("figures/grid_val_acc"),
    log:
        "results/{study}/logs/plot_grid.log",
    conda:
        CONDA_ENV
    params:
        axis_keys=AXIS_KEYS,
    script:
        "../scripts/plot_grid.py"


rule plot_curves_grid:
    input:
        histories=expand(
            "results/{{study}}/search/cells/{cell}/history.csv", cell=list(CELLS)
        ),
    output:
        declared("figures/curves_grid"),
    log:
        "results/{study}/logs/plot_curves_grid.log",
    conda:
        CONDA_ENV
    params:
        labels=[cell.label for cell in CELLS.values()],
    script:
        "../scripts/plot_curves_grid.py"
