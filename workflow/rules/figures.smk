# Figures, each as PNG and PDF, drawn from the result files alone (no retraining).


rule plot_gallery:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
    output:
        report(
            "results/{study}/figures/gallery.png",
            caption="../report/gallery.rst",
            category="Data",
            subcategory="Images",
            labels={"result": "training images"},
        ),
        "results/{study}/figures/gallery.pdf",
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
        report(
            "results/{study}/figures/class_counts.png",
            caption="../report/class_counts.rst",
            category="Data",
            subcategory="Split",
            labels={"result": "images per class (figure)"},
        ),
        "results/{study}/figures/class_counts.pdf",
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
        loss=[
            report(
                "results/{study}/figures/grid_val_loss.png",
                caption="../report/grid_val_loss.rst",
                category="Grid search",
                subcategory="Heat maps",
                labels={"result": "validation loss"},
            ),
            "results/{study}/figures/grid_val_loss.pdf",
        ],
        acc=[
            report(
                "results/{study}/figures/grid_val_acc.png",
                caption="../report/grid_val_acc.rst",
                category="Grid search",
                subcategory="Heat maps",
                labels={"result": "validation accuracy"},
            ),
            "results/{study}/figures/grid_val_acc.pdf",
        ],
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
        report(
            "results/{study}/figures/curves_grid.png",
            caption="../report/curves_grid.rst",
            category="Grid search",
            subcategory="Curves",
            labels={"result": "curves of every cell"},
        ),
        "results/{study}/figures/curves_grid.pdf",
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
        report(
            "results/{study}/figures/curves_final.png",
            caption="../report/curves_final.rst",
            category="Final model",
            subcategory="Curves",
            labels={"result": "training curves"},
        ),
        "results/{study}/figures/curves_final.pdf",
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
        report(
            "results/{study}/figures/augmentation.png",
            caption="../report/augmentation.rst",
            category="Data",
            subcategory="Augmentation",
            labels={"result": "augmented images"},
        ),
        "results/{study}/figures/augmentation.pdf",
    log:
        "results/{study}/logs/plot_augmentation.log",
    params:
        augmentation=config["figures"]["augmentation"],
        seed=config["train"]["seed"],
    conda:
        CONDA_ENV
    script:
        "../scripts/plot_augmentation.py"
