# The data figures of every kind that trains on a dataset, each as PNG and PDF, drawn from the
# prepared data and the split alone.


# Jobs of seconds run on the submitting host, not as one cluster job each (the SLURM profile).
localrules:
    plot_gallery,
    plot_class_counts,
    plot_augmentation,
    plot_augmentation_training,


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
        crop_padding=config["train"]["crop_padding"],
        seed=config["train"]["seed"],
    script:
        "../scripts/plot_augmentation.py"


rule plot_augmentation_training:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
    output:
        declared("figures/augmentation_training"),
    log:
        "results/{study}/logs/plot_augmentation_training.log",
    conda:
        CONDA_ENV
    params:
        train=config["train"],
        axes=run_values(config, KIND.runs(config), AUGMENTATION_KEYS),
    script:
        "../scripts/plot_augmentation_training.py"
