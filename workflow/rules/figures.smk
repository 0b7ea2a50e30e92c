# Figures, each as PNG and PDF, drawn from the result files alone (no retraining).


rule plot_gallery:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
    output:
        multiext("results/{study}/figures/gallery", ".png", ".pdf"),
    log:
        "results/{study}/logs/plot_gallery.log",
    params:
        size=config["figures"]["gallery_size"],
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_gallery.py"


rule plot_class_counts:
    input:
        counts=rules.split.output.counts,
    output:
        multiext("results/{study}/figures/class_counts", ".png", ".pdf"),
    log:
        "results/{study}/logs/plot_class_counts.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_class_counts.py"


rule plot_grid:
    input:
        grid=rules.aggregate_grid.output.grid,
        best=rules.choose_best.output.best,
    output:
        loss=multiext("results/{study}/figures/grid_val_loss", ".png", ".pdf"),
        acc=multiext("results/{study}/figures/grid_val_acc", ".png", ".pdf"),
    log:
        "results/{study}/logs/plot_grid.log",
    params:
        axis_keys=AXIS_KEYS,
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_grid.py"


rule plot_curves_grid:
    input:
        histories=expand(
            "results/{{study}}/search/cells/{cell}/history.csv", cell=list(CELLS)
        ),
    output:
        multiext("results/{study}/figures/curves_grid", ".png", ".pdf"),
    log:
        "results/{study}/logs/plot_curves_grid.log",
    params:
        labels=[cell.label for cell in CELLS.values()],
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_curves_grid.py"


rule plot_curves_final:
    input:
        history=rules.train_final.output.history,
        metrics=rules.evaluate_final.output.metrics,
    output:
        multiext("results/{study}/figures/curves_final", ".png", ".pdf"),
    log:
        "results/{study}/logs/plot_curves_final.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_curves_final.py"


rule plot_augmentation:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
    output:
        multiext("results/{study}/figures/augmentation", ".png", ".pdf"),
    log:
        "results/{study}/logs/plot_augmentation.log",
    params:
        augmentation=config["figures"]["augmentation"],
        seed=config["train"]["seed"],
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_augmentation.py"
