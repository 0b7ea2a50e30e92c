# The report of every kind: the LaTeX document rendered from the result files the study's kind
# names (templates in workflow/report/), and its PDF. Nothing here trains: touching a template
# reruns render_report and compile_report only.

from pathlib import Path as _ReportPath

from snakemake import __version__ as _REPORT_SNAKEMAKE_VERSION

REPORT_DIR = str(_ReportPath(workflow.basedir) / "report")
REPORT_TEMPLATES = sorted(str(p) for p in _ReportPath(REPORT_DIR).rglob("*.tex.j2"))
REPORT_REPO = str(_ReportPath(workflow.basedir).parent)
# The figures the LaTeX report includes: the kind's declared figures, as PDF.
REPORT_FIGURE_FILES = [f"results/{{study}}/{name}.pdf" for name in KIND.figures(config)]
REPORT_INPUTS = KIND.report_inputs(config)


report: f"../report/{KIND.landing}"


# Jobs of seconds run on the submitting host, not as one cluster job each (the SLURM profile).
localrules:
    render_report,
    compile_report,


rule render_report:
    input:
        **REPORT_INPUTS,
        figures=REPORT_FIGURE_FILES,
        main_template=f"{REPORT_DIR}/{KIND.report_template}",
        templates=REPORT_TEMPLATES,
    output:
        tex=declared("report/report.tex"),
    log:
        "results/{study}/logs/render_report.log",
    conda:
        CONDA_ENV
    params:
        kind=KIND.name,
        input_names=list(REPORT_INPUTS),
        # A function, so that config strings with braces are not read as wildcards.
        config=lambda wildcards: config,
        template_dir=lambda wildcards, input: str(
            _ReportPath(input.main_template).parent
        ),
        repo=lambda wildcards: REPORT_REPO,
        # The job may run in an environment without Snakemake: the version comes from here.
        snakemake_version=_REPORT_SNAKEMAKE_VERSION,
        benchmarks=lambda wildcards: f"results/{wildcards.study}/benchmarks",
        figures_dir=lambda wildcards: f"results/{wildcards.study}/figures",
    script:
        "../scripts/report_render.py"


rule compile_report:
    input:
        tex=rules.render_report.output.tex,
        figures=REPORT_FIGURE_FILES,
    output:
        pdf=declared("report/report.pdf"),
    log:
        "results/{study}/logs/compile_report.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/report_compile.py"
