# The grid search: cells are trained in packs (one job each), then one table and the best.
# A pack is the set of cells that share a training run: see search.fuse in the schema.


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
    params:
        config=pack_config,
        pack=pack_of,
    threads: 2
    resources:
        gpu=is_gpu_job(),
    conda:
        CONDA_ENV
    script:
        "../scripts/train_pack.py"


rule unpack_cell:
    input:
        pack=pack_dir_of_cell,
    output:
        history="results/{study}/search/cells/{cell}/history.csv",
        metrics="results/{study}/search/cells/{cell}/metrics.json",
    log:
        "results/{study}/logs/unpack_cell/{cell}.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "(cp {input.pack:q}/{wildcards.cell:q}/history.csv {output.history:q}"
        " && cp {input.pack:q}/{wildcards.cell:q}/metrics.json {output.metrics:q}) > {log:q} 2>&1"


rule aggregate_grid:
    input:
        metrics=expand(
            "results/{{study}}/search/cells/{cell}/metrics.json", cell=list(CELLS)
        ),
    output:
        grid=report(
            "results/{study}/search/grid.csv",
            caption="../report/grid_table.rst",
            category="Grid search",
            subcategory="Tables",
            labels={"result": "grid table"},
        ),
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
        best=report(
            "results/{study}/search/best.json",
            caption="../report/best.rst",
            category="Grid search",
            subcategory="Tables",
            labels={"result": "chosen cell"},
        ),
    log:
        "results/{study}/logs/choose_best.log",
    params:
        axes=config["search"]["axes"],
        metric=config["search"]["metric"],
    conda:
        CONDA_ENV
    script:
        "../scripts/choose_best.py"
