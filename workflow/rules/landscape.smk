# The loss landscape of the final model, f(alpha, beta) = L(theta* + alpha delta + beta eta):
# directions once, theta*'s own loss on the chosen images, the grid in chunks (one job and one
# file each, so a rerun computes only the missing ones), a checked merge, the 1-D slices, and
# the figures. Each rule carries only the landscape keys it reads, so that changing e.g.
# eval_batch_size does not redraw the directions and line_points does not redraw the 2-D figures.
# Every rule reads the final model's resolved settings (final/config.json).


include: "common_of/landscape.smk"


# Jobs of seconds run on the submitting host, not as one cluster job each (the SLURM profile).
localrules:
    landscape_merge,
    plot_landscape_surface,
    plot_landscape_lines,


rule landscape_directions:
    input:
        final=rules.resolve_final.output.final,
        model=rules.train_final.output.model,
    output:
        directions="results/{study}/landscape/directions.safetensors",
        meta="results/{study}/landscape/directions.json",
    log:
        "results/{study}/logs/landscape_directions.log",
    benchmark:
        "results/{study}/benchmarks/landscape_directions.tsv"
    conda:
        CONDA_ENV
    threads: 1
    params:
        landscape=landscape_params(*LANDSCAPE_DIRECTION_KEYS),
    script:
        "../scripts/landscape_directions.py"


rule landscape_reference:
    input:
        **LANDSCAPE_MODEL_INPUTS,
    output:
        **landscape_subset_output(),
        reference="results/{study}/landscape/reference.json",
    log:
        "results/{study}/logs/landscape_reference.log",
    benchmark:
        "results/{study}/benchmarks/landscape_reference.tsv"
    # before the chunks, so the line (which checks against it) can start beside them
    priority: 1
    conda:
        CONDA_ENV
    threads: heavy_threads()
    resources:
        gpu=is_gpu_job(),
    params:
        device=config["device"],
        landscape=landscape_params(*LANDSCAPE_DATA_KEYS),
    script:
        "../scripts/landscape_reference.py"


rule landscape_chunk:
    input:
        **LANDSCAPE_MODEL_INPUTS,
        directions=rules.landscape_directions.output.directions,
    output:
        chunk="results/{study}/landscape/chunks/chunk_{chunk}.csv",
    log:
        "results/{study}/logs/landscape_chunk/{chunk}.log",
    benchmark:
        "results/{study}/benchmarks/landscape_chunk/{chunk}.tsv"
    wildcard_constraints:
        chunk="|".join(str(i) for i in range(LANDSCAPE_CHUNKS)),
    conda:
        CONDA_ENV
    threads: heavy_threads(LANDSCAPE_CHUNKS)
    resources:
        gpu=is_gpu_job(),
    params:
        device=config["device"],
        landscape=landscape_params(*LANDSCAPE_DATA_KEYS, *LANDSCAPE_GRID_KEYS),
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
        csv=declared("landscape/surface.csv"),
        npz="results/{study}/landscape/surface.npz",
        diagnostics="results/{study}/landscape/diagnostics.json",
    log:
        "results/{study}/logs/landscape_merge.log",
    conda:
        CONDA_ENV
    params:
        landscape=landscape_params(*LANDSCAPE_GRID_KEYS),
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
    priority: 1
    conda:
        CONDA_ENV
    # sized like a chunk job and started before them, so it runs beside them: with 5 chunks
    # on 2 cores nothing waits for a lone last chunk (benchmarks/README.md)
    threads: heavy_threads(LANDSCAPE_CHUNKS)
    resources:
        gpu=is_gpu_job(),
    params:
        device=config["device"],
        landscape=landscape_line_params(),
    script:
        "../scripts/landscape_line.py"


rule plot_landscape_surface:
    input:
        surface=rules.landscape_merge.output.npz,
        reference=rules.landscape_reference.output.reference,
    output:
        contour=declared("figures/landscape_contour"),
        contourf=declared("figures/landscape_contourf"),
        heatmap=declared("figures/landscape_heatmap"),
        surface3d=declared("figures/landscape_surface3d"),
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
        line=declared("figures/landscape_line"),
        interpolation=declared("figures/landscape_interpolation"),
    log:
        "results/{study}/logs/plot_landscape_lines.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/landscape_plot.py"
