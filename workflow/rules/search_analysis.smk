# What a finished search says about its parameters, for every search method (grid, random,
# staged): W&B's parameter-importance panel offline (importance.csv, marginals.csv) and its
# figures, in one torch-free job of seconds. It reads search/trials.csv, which every method
# writes, and the stages' space.json (SEARCH_STAGES: [1] for a grid and a random search).


localrules:
    search_analysis,


# the space per stage is drawn for a staged search of more than one stage only
STAGES_FIGURE = (
    {"stages": declared("figures/search_stages")} if len(SEARCH_STAGES) > 1 else {}
)


rule search_analysis:
    input:
        trials="results/{study}/search/trials.csv",
        best="results/{study}/search/best.json",
        spaces=expand(
            "results/{{study}}/search/stages/{stage}/space.json", stage=SEARCH_STAGES
        ),
    output:
        **STAGES_FIGURE,
        importance=declared("search/importance.csv"),
        marginals=declared("search/marginals.csv"),
        page=declared("search/parallel.html"),
        parallel=declared("figures/search_parallel"),
        history=declared("figures/search_history"),
        importance_figure=declared("figures/search_importance"),
        marginals_figure=declared("figures/search_marginals"),
    log:
        "results/{study}/logs/search_analysis.log",
    conda:
        CONDA_ENV
    params:
        metric=config["search"]["metric"],
        seed=config["search"]["seed"],
    script:
        "../scripts/search_analysis.py"
