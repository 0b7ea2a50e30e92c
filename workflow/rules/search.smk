# The grid search: one training job per cell, then one table and the choice of the best cell.


rule train_cell:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
    output:
        history="results/{study}/search/cells/{cell}/history.csv",
        metrics="results/{study}/search/cells/{cell}/metrics.json",
    log:
        "results/{study}/logs/train_cell/{cell}.log",
    benchmark:
        "results/{study}/benchmarks/train_cell/{cell}.tsv"
    params:
        config=cell_config,
        cell=cell_params,
    # One thread per cell: on CPUs, cells side by side use the cores better than one
    # cell on several threads (set more with --set-threads train_cell=N).
    threads: 1
    resources:
        gpu=is_gpu_job(),
    conda:
        CONDA_ENV
    script:
        "../scripts/train_cell.py"


rule aggregate_grid:
    input:
        metrics=expand(
            "results/{{study}}/search/cells/{cell}/metrics.json", cell=list(CELLS)
        ),
    output:
        grid="results/{study}/search/grid.csv",
    log:
        "results/{study}/logs/aggregate_grid.log",
    params:
        axis_keys=AXIS_KEYS,
    conda:
        CONDA_ENV
    script:
        "../scripts/aggregate_grid.py"


rule choose_best:
    input:
        grid=rules.aggregate_grid.output.grid,
    output:
        best="results/{study}/search/best.json",
    log:
        "results/{study}/logs/choose_best.log",
    params:
        axes=config["search"]["axes"],
        metric=config["search"]["metric"],
    conda:
        CONDA_ENV
    script:
        "../scripts/choose_best.py"
