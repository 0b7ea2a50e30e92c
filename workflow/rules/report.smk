# The report: the layer table and forward check of the final model, the LaTeX document rendered
# from the result files (templates in workflow/report/), and its PDF. Nothing here trains:
# touching a template reruns render_report and compile_report only.

from pathlib import Path as _ReportPath

from snakemake import __version__ as _REPORT_SNAKEMAKE_VERSION

REPORT_DIR = str(_ReportPath(workflow.basedir) / "report")
REPORT_TEMPLATES = sorted(str(p) for p in _ReportPath(REPORT_DIR).rglob("*.tex.j2"))
REPORT_REPO = str(_ReportPath(workflow.basedir).parent)
REPORT_FIGURES = [
    "gallery",
    "class_counts",
    "grid_val_loss",
    "grid_val_acc",
    "curves_grid",
    "curves_final",
    "augmentation",
]
REPORT_LANDSCAPE_FIGURES = [
    "landscape_contour",
    "landscape_contourf",
    "landscape_heatmap",
    "landscape_surface3d",
    "landscape_line",
    "landscape_interpolation",
]
REPORT_WITH_LANDSCAPE = not EXPERIMENT_STUDY and bool(config["landscape"]["enabled"])
REPORT_EXPERIMENT_FIGURES = [
    "gallery",
    "class_counts",
    "augmentation",
    "experiments_curves",
    "gradient_flow_overlay",
    *(f"gradient_flow/{name}" for name in EXPERIMENTS),
]


report: "../report/workflow.rst"


# The figures the report includes, and the landscape's result files when the study has one.
REPORT_FIGURE_FILES = expand(
    "results/{{study}}/figures/{name}.pdf",
    name=(
        REPORT_EXPERIMENT_FIGURES
        if EXPERIMENT_STUDY
        else REPORT_FIGURES + (REPORT_LANDSCAPE_FIGURES if REPORT_WITH_LANDSCAPE else [])
    ),
)
REPORT_LANDSCAPE_INPUTS = (
    {
        "directions": "results/{study}/landscape/directions.json",
        "diagnostics": "results/{study}/landscape/diagnostics.json",
        "surface": "results/{study}/landscape/surface.csv",
        "line": "results/{study}/landscape/line.csv",
        "interpolation": "results/{study}/landscape/interpolation.csv",
    }
    if REPORT_WITH_LANDSCAPE
    else {}
)


rule model_summary:
    input:
        best="results/{study}/search/best.json",
        model="results/{study}/final/model.safetensors",
    output:
        csv=report(
            "results/{study}/report/model_summary.csv",
            caption="../report/model_summary.rst",
            category="Final model",
            subcategory="Network",
            labels={"result": "layer table"},
        ),
        check="results/{study}/report/forward_check.json",
    log:
        "results/{study}/logs/model_summary.log",
    params:
        config=lambda wildcards: training_config(),
    conda:
        CONDA_ENV
    script:
        "../scripts/report_model_summary.py"


# The result files each kind of study's report reads.
if EXPERIMENT_STUDY:
    REPORT_INPUTS = {
        "results": "results/{study}/experiments/results.csv",
        "gradient_flows": expand(
            "results/{{study}}/experiments/{experiment}/gradient_flow.csv",
            experiment=list(EXPERIMENTS),
        ),
    }
else:
    REPORT_INPUTS = {
        **REPORT_LANDSCAPE_INPUTS,
        "split": "results/{study}/data/split.csv",
        "grid": "results/{study}/search/grid.csv",
        "best": "results/{study}/search/best.json",
        "metrics": "results/{study}/final/metrics.json",
        "history": "results/{study}/final/history.csv",
        "model_summary": rules.model_summary.output.csv,
        "forward_check": rules.model_summary.output.check,
    }


rule render_report:
    input:
        **REPORT_INPUTS,
        counts="results/{study}/data/class_counts.csv",
        figures=REPORT_FIGURE_FILES,
        main_template=f"{REPORT_DIR}/{'experiments_report' if EXPERIMENT_STUDY else 'report'}.tex.j2",
        templates=REPORT_TEMPLATES,
    output:
        tex="results/{study}/report/report.tex",
    log:
        "results/{study}/logs/render_report.log",
    params:
        # A function, so that config strings with braces are not read as wildcards.
        config=lambda wildcards: config,
        template_dir=lambda wildcards, input: str(_ReportPath(input.main_template).parent),
        repo=lambda wildcards: REPORT_REPO,
        # The job may run in an environment without Snakemake: the version comes from here.
        snakemake_version=_REPORT_SNAKEMAKE_VERSION,
        benchmarks=lambda wildcards: f"results/{wildcards.study}/benchmarks",
        figures_dir=lambda wildcards: f"results/{wildcards.study}/figures",
        experiments=list(EXPERIMENTS),
    conda:
        CONDA_ENV
    script:
        "../scripts/report_render.py"


rule compile_report:
    input:
        tex=rules.render_report.output.tex,
        figures=REPORT_FIGURE_FILES,
    output:
        pdf=report(
            "results/{study}/report/report.pdf",
            caption="../report/report_pdf.rst",
            category="Report",
            labels={"result": "written report (PDF)"},
        ),
    log:
        "results/{study}/logs/compile_report.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/report_compile.py"
