# Data: download the official archives, prepare one .npz, split the training set; and what
# every kind that trains on a dataset shares (the training sections, the GPU tag).


include: "common_of/data.smk"


if DATASET.archives:

    rule download:
        output:
            [f"{DATA_DIR}/{archive.filename}" for archive in DATASET.archives],
        log:
            f"{DATA_DIR}/logs/download.log",
        retries: 2
        # Compute nodes of a cluster often have no internet: download on the submitting host.
        localrule: True
        conda:
            CONDA_ENV
        params:
            dataset=DATASET.name,
            # the archives' folder, from the outputs (not a second hard-coded path)
            root=lambda wildcards, output: os.path.dirname(output[0]),
            mirror=config["dataset"]["mirror"],
            checksums=config["dataset"]["checksums"],
        script:
            "../scripts/download.py"


# Jobs of seconds run on the submitting host, not as one cluster job each (the SLURM profile).
localrules:
    split,


rule prepare:
    input:
        [f"{DATA_DIR}/{archive.filename}" for archive in DATASET.archives],
    output:
        f"{DATA_DIR}/{DATASET.name}.npz",
    log:
        f"{DATA_DIR}/logs/prepare.log",
    conda:
        CONDA_ENV
    params:
        dataset=DATASET.name,
        checksums=config["dataset"]["checksums"],
    script:
        "../scripts/prepare.py"


rule split:
    input:
        data=rules.prepare.output[0],
    output:
        split="results/{study}/data/split.csv",
        counts=declared("data/class_counts.csv"),
    log:
        "results/{study}/logs/split.log",
    conda:
        CONDA_ENV
    params:
        split=config["split"],
    script:
        "../scripts/split.py"
