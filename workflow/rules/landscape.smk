# The loss landscape of the final model, f(alpha, beta) = L(theta* + alpha delta + beta eta):
# directions once, theta*'s own loss on the chosen images, the grid in chunks (one job and one
# file each, so a rerun computes only the missing ones), a checked merge, the 1-D slices, and
# the figures. Each rule carries only the landscape keys it reads, so that changing e.g.
# eval_batch_size does not redraw the directions and line_points does not redraw the 2-D figures.

LANDSCAPE_MODEL_INPUTS = dict(
    data=rules.prepare.output[0],
    split=rules.split.output.split,
    best=rules.choose_best.output.best,
    model=rules.train_final.output.model,
)


rule landscape_directions:
    input:
        best=rules.choose_best.output.best,
        model=rules.train_final.output.model,
    output:
        directions="results/{study}/landscape/directions.safetensors",
        meta="results/{study}/landscape/directions.json",
    log:
        "results/{study}/logs/landscape_directions.log",
    benchmark:
        "results/{study}/benchmarks/landscape_directions.tsv"
    params:
        config=training_config(),
        landscape=landscape_params(*LANDSCAPE_DIRECTION_KEYS),
    threads: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/landscape_directions.py"


rule landscape_reference:
    input:
        **LANDSCAPE_MODEL_INPUTS,
    output:
        reference="results/{study}/landscape/reference.json",
        **landscape_subset_output(),
    log:
        "results/{study}/logs/landscape_reference.log",
    benchmark:
        "results/{study}/benchmarks/landscape_reference.tsv"
    params:
        config=training_config(),
        train_on=config["final"]["train_on"],
        landscape=landscape_params(*LANDSCAPE_DATA_KEYS),
    threads: 2
    resources:
        gpu=is_gpu_job(),
    conda:
        CONDA_ENV
    script:
        "../scripts/landscape_reference.py"


rule landscape_chunk:
    input:
        **LANDSCAPE_MODEL_INPUTS,
        directions=rules.landscape_directions.output.directions,
    output:
        chunk="results/{study}/landscape/chunks/chunk_{chunk}.csv",
    wildcard_constraints:
        chunk="|".join(str(i) for i in range(LANDSCAPE_CHUNKS)),
    log:
        "results/{study}/logs/landscape_chunk/{chunk}.log",
    benchmark:
        "results/{study}/benchmarks/landscape_chunk/{chunk}.tsv"
    params:
        config=training_config(),
        train_on=config["final"]["train_on"],
        landscape=landscape_params(*LANDSCAPE_DATA_KEYS, *LANDSCAPE_GRID_KEYS),
    threads: 2
    resources:
        gpu=is_gpu_job(),
    conda:
        CONDA_ENV
    script:
        "../scripts/landscape_chunk.py"


rule landscape_merge:
    input:
        chunks=expand(
            "results/{{study}}/landscape/chunks/chunk_{chunk}.csv",
            chunk=range(LANDSCAPE_CHUNKS),
        ),
        meta=rules.landscape_directions.output.meta,
        reference=rules.landscape_reference.output.reference,
    output:
        csv=report(
            "results/{study}/landscape/surface.csv",
            caption="../report/landscape_surface.rst",
            category="Loss landscape",
            subcategory="Tables",
            labels={"result": "surface"},
        ),
        npz="results/{study}/landscape/surface.npz",
        diagnostics="results/{study}/landscape/diagnostics.json",
    log:
        "results/{study}/logs/landscape_merge.log",
    params:
        landscape=landscape_params(*LANDSCAPE_GRID_KEYS),
    conda:
        CONDA_ENV
    script:
        "../scripts/landscape_merge.py"


rule landscape_line:
    input:
        **LANDSCAPE_MODEL_INPUTS,
        init=rules.train_final.output.init,
        directions=rules.landscape_directions.output.directions,
        reference=rules.landscape_reference.output.reference,
    output:
        line="results/{study}/landscape/line.csv",
        interpolation="results/{study}/landscape/interpolation.csv",
    log:
        "results/{study}/logs/landscape_line.log",
    benchmark:
        "results/{study}/benchmarks/landscape_line.tsv"
    params:
        config=training_config(),
        train_on=config["final"]["train_on"],
        landscape=landscape_line_params(),
    threads: 2
    resources:
        gpu=is_gpu_job(),
    conda:
        CONDA_ENV
    script:
        "../scripts/landscape_line.py"


rule plot_landscape_surface:
    input:
        surface=rules.landscape_merge.output.npz,
        reference=rules.landscape_reference.output.reference,
    output:
        contour=[
            report(
                "results/{study}/figures/landscape_contour.png",
                caption="../report/landscape_contour.rst",
                category="Loss landscape",
                subcategory="Surface",
                labels={"result": "contour lines"},
            ),
            "results/{study}/figures/landscape_contour.pdf",
        ],
        contourf=[
            report(
                "results/{study}/figures/landscape_contourf.png",
                caption="../report/landscape_contourf.rst",
                category="Loss landscape",
                subcategory="Surface",
                labels={"result": "filled contours"},
            ),
            "results/{study}/figures/landscape_contourf.pdf",
        ],
        heatmap=[
            report(
                "results/{study}/figures/landscape_heatmap.png",
                caption="../report/landscape_heatmap.rst",
                category="Loss landscape",
                subcategory="Surface",
                labels={"result": "heat map"},
            ),
            "results/{study}/figures/landscape_heatmap.pdf",
        ],
        surface3d=[
            report(
                "results/{study}/figures/landscape_surface3d.png",
                caption="../report/landscape_surface3d.rst",
                category="Loss landscape",
                subcategory="Surface",
                labels={"result": "3-D surface"},
            ),
            "results/{study}/figures/landscape_surface3d.pdf",
        ],
    log:
        "results/{study}/logs/plot_landscape_surface.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/landscape_plot.py"


rule plot_landscape_lines:
    input:
        line=rules.landscape_line.output.line,
        interpolation=rules.landscape_line.output.interpolation,
        reference=rules.landscape_reference.output.reference,
    output:
        line=[
            report(
                "results/{study}/figures/landscape_line.png",
                caption="../report/landscape_line.rst",
                category="Loss landscape",
                subcategory="Slices",
                labels={"result": "along delta"},
            ),
            "results/{study}/figures/landscape_line.pdf",
        ],
        interpolation=[
            report(
                "results/{study}/figures/landscape_interpolation.png",
                caption="../report/landscape_interpolation.rst",
                category="Loss landscape",
                subcategory="Slices",
                labels={"result": "from theta0 to theta*"},
            ),
            "results/{study}/figures/landscape_interpolation.pdf",
        ],
    log:
        "results/{study}/logs/plot_landscape_lines.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/landscape_plot.py"
