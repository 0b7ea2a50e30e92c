# Data: download the official archives, prepare one .npz, split the training set.

if DATASET.archives:

    rule download:
        output:
            [f"{DATA_DIR}/{archive.filename}" for archive in DATASET.archives],
        log:
            f"{DATA_DIR}/logs/download.log",
        params:
            dataset=DATASET.name,
            # the archives' folder, from the outputs (not a second hard-coded path)
            root=lambda wildcards, output: os.path.dirname(output[0]),
            mirror=config["dataset"]["mirror"],
            checksums=config["dataset"]["checksums"],
        retries: 2
        # Compute nodes of a cluster often have no internet: download on the submitting host.
        localrule: True
        conda:
            CONDA_ENV
        script:
            "../scripts/download.py"


rule prepare:
    input:
        [f"{DATA_DIR}/{archive.filename}" for archive in DATASET.archives],
    output:
        f"{DATA_DIR}/{DATASET.name}.npz",
    log:
        f"{DATA_DIR}/logs/prepare.log",
    params:
        dataset=DATASET.name,
        checksums=config["dataset"]["checksums"],
    conda:
        CONDA_ENV
    script:
        "../scripts/prepare.py"


rule split:
    input:
        data=rules.prepare.output[0],
    output:
        split="results/{study}/data/split.csv",
        counts=report(
            "results/{study}/data/class_counts.csv",
            caption="../report/class_counts_table.rst",
            category="Data",
            subcategory="Split",
            labels={"result": "images per class (table)"},
        ),
    log:
        "results/{study}/logs/split.log",
    params:
        split=config["split"],
    conda:
        CONDA_ENV
    script:
        "../scripts/split.py"
