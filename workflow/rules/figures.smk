# The data figures of every kind that trains on a dataset, each as PNG and PDF, drawn from the
# prepared data and the split alone.


rule plot_gallery:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
    output:
        declared("figures/gallery"),
    log:
        "results/{study}/logs/plot_gallery.log",
    conda:
        CONDA_ENV
    params:
        size=config["figures"]["gallery_size"],
    script:
        "../scripts/plot_gallery.py"


rule plot_class_counts:
    input:
        counts=rules.split.output.counts,
    output:
        declared("figures/class_counts"),
    log:
        "results/{study}/logs/plot_class_counts.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_class_counts.py"


rule plot_augmentation:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
    output:
        declared("figures/augmentation"),
    log:
        "results/{study}/logs/plot_augmentation.log",
    conda:
        CONDA_ENV
    params:
        augmentation=config["figures"]["augmentation"],
        seed=config["train"]["seed"],
    script:
        "../scripts/plot_augmentation.py"
