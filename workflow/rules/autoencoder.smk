# Autoencoders (kind autoencoder): one training job per architecture and latent size, each
# writing its codes, their mean decoded and sample reconstructions; then one table and the
# figures the handout asks for.


include: "common_of/autoencoder.smk"


# Jobs of seconds run on the submitting host, not as one cluster job each (the SLURM profile).
localrules:
    autoencoder_results,
    plot_autoencoder_loss,
    plot_autoencoder_architecture,
    plot_autoencoder_mean_latent,
    plot_autoencoder_codes,


rule train_autoencoder:
    input:
        data=rules.prepare.output[0],
        split=rules.split.output.split,
    output:
        history="results/{study}/autoencoders/{run}/history.csv",
        metrics="results/{study}/autoencoders/{run}/metrics.json",
        model=declared("autoencoders/{run}/model.safetensors"),
        latents="results/{study}/autoencoders/{run}/latents.npz",
        mean_latent="results/{study}/autoencoders/{run}/mean_latent.json",
        mean_decoded="results/{study}/autoencoders/{run}/mean_decoded.npz",
        samples="results/{study}/autoencoders/{run}/samples.npz",
        layers="results/{study}/autoencoders/{run}/layers.csv",
    log:
        "results/{study}/logs/train_autoencoder/{run}.log",
    benchmark:
        "results/{study}/benchmarks/train_autoencoder/{run}.tsv"
    # a job stopped by SIGTERM (a time limit, a preemption) exits 143 after its checkpoint:
    # rerun once, it resumes from there (src/gridscape/checkpoint.py)
    retries: 1
    conda:
        CONDA_ENV
    threads: heavy_threads(len(RUNS))
    resources:
        gpu=is_gpu_job(),
    params:
        config=autoencoder_config,
        run=run_parts,
    script:
        "../scripts/train_autoencoder.py"


rule autoencoder_results:
    input:
        metrics=expand("results/{{study}}/autoencoders/{run}/metrics.json", run=RUNS),
    output:
        declared("autoencoders/results.csv"),
    log:
        "results/{study}/logs/autoencoder_results.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/autoencoder_results.py"


rule plot_autoencoder_loss:
    input:
        histories=expand("results/{{study}}/autoencoders/{run}/history.csv", run=RUNS),
    output:
        declared("figures/ae_loss"),
    log:
        "results/{study}/logs/plot_autoencoder_loss.log",
    conda:
        CONDA_ENV
    params:
        runs=RUNS,
    script:
        "../scripts/plot_autoencoder_loss.py"


rule plot_autoencoder_architecture:
    input:
        histories=lambda wildcards: expand(
            "results/{study}/autoencoders/{run}/history.csv",
            study=wildcards.study,
            run=runs_of_architecture(wildcards),
        ),
        samples=lambda wildcards: expand(
            "results/{study}/autoencoders/{run}/samples.npz",
            study=wildcards.study,
            run=runs_of_architecture(wildcards),
        ),
    output:
        declared("figures/ae_{architecture}"),
    log:
        "results/{study}/logs/plot_autoencoder_architecture/{architecture}.log",
    conda:
        CONDA_ENV
    params:
        runs=runs_of_architecture,
    script:
        "../scripts/plot_autoencoder_architecture.py"


rule plot_autoencoder_mean_latent:
    input:
        decoded=expand(
            "results/{{study}}/autoencoders/{run}/mean_decoded.npz",
            run=MEAN_LATENT_RUNS,
        ),
    output:
        declared("figures/ae_mean_latent"),
    log:
        "results/{study}/logs/plot_autoencoder_mean_latent.log",
    conda:
        CONDA_ENV
    params:
        runs=MEAN_LATENT_RUNS,
    script:
        "../scripts/plot_autoencoder_mean_latent.py"


rule plot_autoencoder_codes:
    input:
        latents=expand(
            "results/{{study}}/autoencoders/{run}/latents.npz",
            run=TWO_DIMENSIONAL_RUNS,
        ),
        data=rules.prepare.output[0],
    output:
        declared("figures/ae_latent_2d"),
    log:
        "results/{study}/logs/plot_autoencoder_codes.log",
    conda:
        CONDA_ENV
    params:
        runs=TWO_DIMENSIONAL_RUNS,
    script:
        "../scripts/plot_autoencoder_codes.py"
