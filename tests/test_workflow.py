"""The whole workflow, end to end, on a tiny CIFAR-10 archive in the official binary format.

One Snakemake run (module fixture) feeds several tests, each checking one contract file or
one agreement between files.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fakedata import make_cifar10_archive
from html_report import check_html_report

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile")]
STUDY = "tiny-cifar10"
# LaTeX's special characters and a command that must print, never run
TITLE = r"Tiny CIFAR-10 & friends: 100% {escaped}_test #1 $x$ ~ ^ \input{/etc/passwd}"


def tiny_config(mirror: Path, md5: str, **overrides) -> dict:
    config = {
        "study": STUDY,
        "title": TITLE,
        "device": "cpu",
        "dataset": {
            "name": "cifar10",
            "mirror": mirror.as_uri() + "/",
            "checksums": {"cifar-10-binary.tar.gz": md5},
        },
        "split": {"val_fraction": 0.2, "seed": 1},
        "train": {"seed": 3, "batch_size": 16, "epochs": 2, "eval_batch_size": 32},
        "search": {
            "axes": [
                # lr 1e4 makes those two cells diverge: the grid must still finish
                {"key": "optimizer.lr", "values": [0.05, 10000.0]},
                {"key": "optimizer.momentum", "values": [0.0, 0.5]},
            ],
            "reason": "tiny test grid",
        },
        "landscape": {
            "alpha": {"min": -1.0, "max": 1.0, "num": 5},
            "beta": {"min": -0.5, "max": 0.5, "num": 3},
            "chunks": 2,
            "line_points": 5,
            "subset_size": 40,
        },
    }
    config.update(overrides)
    return config


def run_snakemake(workdir: Path, *args: str, check: bool = True, path: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg", **({"PATH": path} if path else {})}
    proc = subprocess.run(
        [*SNAKEMAKE, "--directory", str(workdir), "--cores", "2", *args],
        capture_output=True, text=True, env=env, timeout=900,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def write_config(workdir: Path, config: dict) -> None:
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))


def planned_jobs(proc: subprocess.CompletedProcess) -> set[str]:
    """The rules of the jobs a (dry) run lists; local jobs print as `localrule`."""
    lines = (proc.stdout + proc.stderr).splitlines()
    return {line.split()[1].rstrip(":") for line in lines if line.startswith(("rule ", "localrule "))}


def path_without(tool: str, farm: Path) -> str:
    """A PATH with every program of this one but ``tool``: a machine without TeX."""
    farm.mkdir(parents=True, exist_ok=True)
    for folder in os.environ["PATH"].split(os.pathsep):
        for program in sorted(Path(folder).glob("*")) if Path(folder).is_dir() else []:
            link = farm / program.name
            if program.name != tool and not link.exists() and not link.is_symlink():
                link.symlink_to(program)
    return str(farm)


@pytest.fixture(scope="module")
def study_runs(tmp_path_factory):
    """The tiny study run first on a machine without latexmk, then again with it."""
    workdir = tmp_path_factory.mktemp("study")
    mirror = workdir / "mirror"
    mirror.mkdir()
    _, md5, _ = make_cifar10_archive(mirror, images_per_class_per_batch=2, test_images_per_class=2, seed=0)
    write_config(workdir, tiny_config(mirror, md5))
    no_tex_path = path_without("latexmk", tmp_path_factory.mktemp("no-tex"))
    # one thread for the pack, fewer than torch's default here: the metrics must show 1
    without_tex = run_snakemake(workdir, "--set-threads", "train_pack=1", path=no_tex_path)
    results = workdir / "results" / STUDY
    present = sorted(str(p.relative_to(results)) for p in results.rglob("*") if p.is_file())
    with_tex = run_snakemake(workdir, "--set-threads", "train_pack=1")
    return {"workdir": workdir, "without_tex": without_tex, "present_without_tex": present, "with_tex": with_tex}


@pytest.fixture(scope="module")
def study(study_runs):
    return study_runs["workdir"] / "results" / STUDY


def test_grid_csv_contract(study):
    grid = pd.read_csv(study / "search" / "grid.csv")
    assert list(grid.columns) == [
        "optimizer.lr", "optimizer.momentum", "train_loss", "train_acc", "val_loss", "val_acc", "status", "seconds"
    ]
    assert grid[["optimizer.lr", "optimizer.momentum"]].values.tolist() == [[0.05, 0.0], [0.05, 0.5], [1e4, 0.0], [1e4, 0.5]]
    assert grid["status"].tolist() == ["ok", "ok", "diverged", "diverged"]
    for column in ("train_acc", "val_acc"):
        assert grid[column].between(0, 1).all()
    assert (grid["seconds"] > 0).all()


def test_best_is_the_argmax_of_the_grid(study):
    grid = pd.read_csv(study / "search" / "grid.csv")
    best = json.loads((study / "search" / "best.json").read_text())
    assert best["metric"] == "val_acc"
    ok = grid[grid.status == "ok"]
    assert best["value"] == pytest.approx(ok["val_acc"].max())
    assert best["params"]["optimizer.lr"] == 0.05  # never a diverged cell
    assert best["n_diverged"] == 2
    row = grid[(grid["optimizer.lr"] == best["params"]["optimizer.lr"]) & (grid["optimizer.momentum"] == best["params"]["optimizer.momentum"])]
    assert len(row) == 1 and row["val_acc"].iloc[0] == pytest.approx(best["value"])


def test_each_cell_history_ends_in_its_grid_row(study):
    grid = pd.read_csv(study / "search" / "grid.csv")
    assert len(list((study / "search" / "cells").iterdir())) == 4
    for _, row in grid.iterrows():
        cell = study / "search" / "cells" / f"optimizer.lr~{row['optimizer.lr']!r}_optimizer.momentum~{row['optimizer.momentum']!r}"
        history = pd.read_csv(cell / "history.csv")
        assert list(history.columns) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"]
        expected_epochs = [1, 2] if row["status"] == "ok" else list(range(1, len(history) + 1))
        assert history["epoch"].tolist() == expected_epochs
        assert row["val_acc"] == history["val_acc"].iloc[-1]
        metrics = json.loads((cell / "metrics.json").read_text())
        assert metrics["threads"] == 1  # the rule's threads (set to 1), not torch's default
        assert metrics["models_in_pack"] == 4  # the 2x2 grid trained as one fused pack
        assert metrics["status"] == row["status"]


def test_final_model_and_metrics_agree(study):
    from safetensors.torch import load_file

    from gridscape.models import build_model

    metrics = json.loads((study / "final" / "metrics.json").read_text())
    history = pd.read_csv(study / "final" / "history.csv")
    assert list(history.columns) == ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds"]
    assert metrics["test_loss"] == pytest.approx(history["test_loss"].iloc[-1], rel=1e-6)
    assert metrics["test_acc"] == pytest.approx(history["test_acc"].iloc[-1])
    assert metrics["n_test"] == 20
    best = json.loads((study / "search" / "best.json").read_text())
    assert metrics["params"] == best["params"]
    state = load_file(str(study / "final" / "model.safetensors"))
    model = build_model({"name": "lenet5", "activation": "relu"}, (3, 32, 32), 10)
    assert set(state) == set(model.state_dict())
    model.load_state_dict(state)


def test_split_is_stratified(study):
    split = pd.read_csv(study / "data" / "split.csv")
    assert len(split) == 100
    assert (split[split.subset == "val"].groupby("label").size() == 2).all()
    counts = pd.read_csv(study / "data" / "class_counts.csv")
    assert counts[["train", "val", "test"]].sum().tolist() == [80, 20, 20]


def test_figures_are_png_and_pdf(study):
    names = ["gallery", "class_counts", "grid_val_loss", "grid_val_acc", "curves_grid", "curves_final", "augmentation"]
    for name in names:
        png = (study / "figures" / f"{name}.png").read_bytes()
        pdf = (study / "figures" / f"{name}.pdf").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 5000, name
        assert pdf.startswith(b"%PDF"), name


def test_every_rule_logged_and_heavy_rules_benchmarked(study):
    logs = {p.stem for p in (study / "logs").rglob("*.log")}
    assert {"split", "aggregate_grid", "choose_best", "train_final", "evaluate_final", "plot_grid"} <= logs
    benchmark = pd.read_csv(study / "benchmarks" / "train_final.tsv", sep="\t")
    assert benchmark["s"].iloc[0] > 0
    log = (study / "logs" / "train_final.log").read_text()
    assert "epoch 2/2" in log and "test_acc" in log


def test_the_study_benchmark_accounts_for_every_job_of_the_run(study):
    """benchmarks/study.py's reading of a run: every job with its rule, stage, start-up and
    peak memory, from Snakemake's log and the jobs' own logs."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import study as study_benchmark

    workdir = study.parents[1]
    first_run = sorted((workdir / ".snakemake" / "log").glob("*.snakemake.log"))[0]
    finished = first_run.read_text().count("Finished jobid:")
    summary = study_benchmark.summarise(workdir, first_run)
    rules = summary["rules"].set_index("rule")
    assert len(summary["jobs"]) == finished - 1 == rules["jobs"].sum()  # every job but `all`
    assert rules.loc["landscape_chunk", "jobs"] == 2 and rules.loc["landscape_chunk", "stage"] == "landscape"
    assert rules.loc["train_pack", "stage"] == "search" and rules.loc["download", "stage"] == "data"
    for job in summary["jobs"]:
        text = (workdir / job.log).read_text()
        if " INFO gridscape" in text:  # a job of the package: it logged its start-up and its peak
            assert 0 < job.startup < job.seconds <= job.end - job.start + 2, job
            assert job.peak_mb > 50, job
    torch_free = [j for j in summary["jobs"] if j.rule in ("landscape_merge", "plot_gallery", "aggregate_grid")]
    assert len(torch_free) == 3 and all(j.peak_mb < 400 for j in torch_free)  # importing torch alone takes ~500 MB
    stages = summary["stages"].set_index("stage")
    assert stages["jobs"].sum() == len(summary["jobs"]) and (stages["span"] >= 0).all()
    assert summary["before_first_job"] >= 0 and summary["idle_between_jobs"] >= 0


def test_nothing_left_to_do_after_the_run(study):
    proc = run_snakemake(study.parents[1], "--dry-run")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_corrupt_download_names_the_file(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    make_cifar10_archive(mirror, images_per_class_per_batch=1, test_images_per_class=1, seed=0)
    write_config(tmp_path, tiny_config(mirror, "0" * 32))
    proc = run_snakemake(tmp_path, check=False)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "cifar-10-binary.tar.gz" in output and "md5" in output
    assert not (tmp_path / "resources" / "datasets" / "cifar10" / "cifar10.npz").exists()
    assert not (tmp_path / "results" / STUDY / "search").exists()


def test_bad_config_stops_before_any_job(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    config = tiny_config(mirror, "0" * 32)
    config["optimizer"] = {"lr": -0.1}
    write_config(tmp_path, config)
    proc = run_snakemake(tmp_path, check=False)
    assert proc.returncode != 0
    assert "config key optimizer.lr" in proc.stdout + proc.stderr
    assert not (tmp_path / "resources").exists() and not (tmp_path / "results").exists()


def test_landscape_contracts(study):
    from safetensors.torch import load_file

    landscape = study / "landscape"
    directions = load_file(str(landscape / "directions.safetensors"))
    model = load_file(str(study / "final" / "model.safetensors"))
    parameters = [name for name in model if not name.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert sorted(directions) == sorted([f"delta.{n}" for n in parameters] + [f"eta.{n}" for n in parameters])
    meta = json.loads((landscape / "directions.json").read_text())
    assert abs(meta["cos_delta_eta"]) < 0.2
    surface = pd.read_csv(landscape / "surface.csv")
    assert list(surface.columns) == ["alpha", "beta", "loss", "acc"]
    assert len(surface) == 15
    assert sorted(surface["alpha"].unique()) == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert sorted(surface["beta"].unique()) == [-0.5, 0.0, 0.5]
    diagnostics = json.loads((landscape / "diagnostics.json").read_text())
    centre = surface[(surface.alpha == 0) & (surface.beta == 0)]["loss"].iloc[0]
    assert centre == pytest.approx(diagnostics["centre"]["loss"], rel=1e-12)
    assert diagnostics["centre_check"]["relative_difference"] <= 1e-6
    assert len(pd.read_csv(landscape / "subset_indices.csv")) == 40
    assert len(list((landscape / "chunks").glob("chunk_*.csv"))) == 2
    assert set(pd.read_csv(landscape / "chunks" / "chunk_0.csv")["method"]) == {diagnostics["method"]}
    # the centre against an independent evaluation of θ* on the saved subset
    import torch

    from gridscape.data import load_prepared
    from gridscape.data.loader import TensorData
    from gridscape.models import build_model
    from gridscape.train import evaluate

    data = load_prepared(study.parents[1] / "resources" / "datasets" / "cifar10" / "cifar10.npz")
    indices = pd.read_csv(landscape / "subset_indices.csv").iloc[:, 0].to_numpy()
    model = build_model({"name": "lenet5", "activation": "relu"}, (3, 32, 32), 10)
    model.load_state_dict(load_file(str(study / "final" / "model.safetensors")))
    images = TensorData.from_arrays(data.train_images[indices], data.train_labels[indices], data.mean, data.std, torch.device("cpu"))
    loss, _ = evaluate(model, images, 1000)
    assert centre == pytest.approx(loss, rel=1e-5)
    for name in ("contour", "contourf", "heatmap", "surface3d", "line", "interpolation"):
        assert (study / "figures" / f"landscape_{name}.png").read_bytes().startswith(b"\x89PNG")


def test_changing_the_landscape_range_retrains_nothing(study):
    workdir = study.parents[1]
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    changed = {**config, "landscape": {**config["landscape"], "alpha": {"min": -2.0, "max": 2.0, "num": 5}}}
    write_config(workdir, changed)
    try:
        proc = run_snakemake(workdir, "--dry-run")
    finally:
        write_config(workdir, config)
    jobs = planned_jobs(proc)
    assert {"landscape_chunk", "landscape_merge", "plot_landscape_surface"} <= jobs
    # the 1-D line spans the alpha range, so it follows; training and the directions do not
    assert not jobs & {"train_pack", "train_final", "evaluate_final", "landscape_directions", "landscape_reference"}, jobs


def test_report_pdf_holds_the_result_numbers_and_the_literal_title(study):
    import shutil

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext missing: apt-get install -y --no-install-recommends poppler-utils")
    pdf = study / "report" / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert (study / "report" / "report.tex").exists()
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert " ".join(TITLE.split()) in flat
    assert "root:x:0:0" not in flat  # \input{/etc/passwd} printed, not run
    metrics = json.loads((study / "final" / "metrics.json").read_text())
    assert f"{100 * metrics['test_acc']:.1f} %" in flat
    best = json.loads((study / "search" / "best.json").read_text())
    assert f"{100 * best['value']:.1f} %" in flat
    assert "0.05" in flat


def test_touching_a_template_reruns_only_the_report(study):
    workdir = study.parents[1]
    template = REPO / "workflow" / "report" / "report.tex.j2"
    original = template.read_text()
    template.write_text(original + "\n")
    try:
        proc = run_snakemake(workdir, "--dry-run")
    finally:
        template.write_text(original)
    jobs = planned_jobs(proc)
    assert jobs - {"all"} == {"render_report", "compile_report"}, jobs


def test_html_report_shows_every_declared_output(study):
    assert check_html_report(study.parents[1], run_snakemake) == []


# --- the first run (issue 14) ------------------------------------------------------------------


def test_without_latexmk_the_run_is_green_skips_only_the_pdf_and_says_so(study_runs):
    from gridscape.config import validate
    from gridscape.kinds import kind_of

    config = validate(yaml.safe_load((study_runs["workdir"] / "config" / "config.yaml").read_text()))
    targets = {path.removeprefix(f"results/{STUDY}/") for path in kind_of(config).targets(config, f"results/{STUDY}")}
    missing = targets - set(study_runs["present_without_tex"])
    assert missing == {"report/report.pdf"}, missing
    terminal = study_runs["without_tex"].stderr
    notice = "gridscape: the PDF report is skipped: latexmk is not installed here. Add TeX with"
    assert terminal.index(notice) < terminal.index("rule prepare:") or terminal.index(notice) < terminal.index("Execute")
    summary = terminal[terminal.rindex("gridscape: " + STUDY + " finished in"):]
    assert "PDF report:  skipped: latexmk is not installed here" in summary
    assert "sudo apt-get install -y --no-install-recommends texlive-latex-recommended" in summary
    assert "then run the same command again: only the PDF is built." in summary


def test_with_latexmk_back_the_same_command_builds_only_the_pdf(study_runs, study):
    assert planned_jobs(study_runs["with_tex"]) == {"compile_report", "all"}
    summary = study_runs["with_tex"].stderr
    assert "is skipped" not in summary
    assert f"PDF report:  results/{STUDY}/report/report.pdf" in summary
    assert (study / "report" / "report.pdf").stat().st_size > 0


def test_the_end_of_run_summary_gives_the_numbers_of_the_result_files(study_runs, study):
    summary = study_runs["with_tex"].stderr.split(f"gridscape: {STUDY} finished in ")[1]
    best = json.loads((study / "search" / "best.json").read_text())
    metrics = json.loads((study / "final" / "metrics.json").read_text())
    params = ", ".join(f"{key} = {value}" for key, value in best["params"].items())
    assert f"best cell:   {params} (val_acc {100 * best['value']:.2f} %)" in summary
    assert f"final model: test accuracy {100 * metrics['test_acc']:.2f} % (loss {metrics['test_loss']:.4f}) on {metrics['n_test']:,} test images" in summary
    assert f"HTML report: not built yet; build it with: snakemake --report results/{STUDY}/report.html" in summary
    minutes, seconds = map(int, summary.split(" s\n")[0].split(" min "))
    assert 0 < 60 * minutes + seconds < 900


def test_a_long_job_shows_its_progress_in_the_terminal(study_runs):
    terminal = study_runs["without_tex"].stderr
    assert "[train_pack/all] epoch 1/2" in terminal and "[train_pack/all] epoch 2/2" in terminal
    assert "[train_final] epoch 2/2  train_loss" in terminal
    assert "[landscape_chunk/1] chunk 1: points" in terminal
    # the full record stays in the job's log, not in the terminal
    assert "checkpoint written" not in terminal


def test_a_failed_job_shows_the_end_of_its_log(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    make_cifar10_archive(mirror, images_per_class_per_batch=1, test_images_per_class=1, seed=0)
    write_config(tmp_path, tiny_config(mirror, "0" * 32))
    data = tmp_path / "resources" / "datasets" / "cifar10"
    data.mkdir(parents=True)
    (data / "cifar-10-binary.tar.gz").write_bytes((mirror / "cifar-10-binary.tar.gz").read_bytes())
    proc = run_snakemake(tmp_path, "resources/datasets/cifar10/cifar10.npz", check=False)
    assert proc.returncode != 0
    header = "gridscape: rule prepare failed; the end of its log resources/datasets/cifar10/logs/prepare.log:"
    assert header in proc.stderr
    shown = proc.stderr.split(header)[1]
    log_lines = (tmp_path / "resources" / "datasets" / "cifar10" / "logs" / "prepare.log").read_text().splitlines()
    assert f"  | {log_lines[-1]}" in shown and "md5" in shown


def job_block(plan: str, rule: str) -> list[str]:
    """The indented lines under the first job of ``rule`` in Snakemake's plan."""
    lines = plan.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] in (["rule", f"{rule}:"], ["localrule", f"{rule}:"]))
    block = []
    for line in lines[start + 1:]:
        if not line.startswith(" "):
            break
        block.append(line.strip())
    return block


def test_heavy_jobs_take_the_cores_they_are_given(tmp_path):
    write_config(tmp_path, tiny_config(tmp_path, "0" * 32))
    for cores in (1, 6):
        proc = run_snakemake(tmp_path, "--dry-run", "--cores", str(cores))
        plan = proc.stdout + proc.stderr
        # the one fused pack of the tiny grid, and the final model, get every core
        for rule in ("train_pack", "train_final"):
            threads = [line for line in job_block(plan, rule) if line.startswith("threads:")]
            assert threads == ([f"threads: {cores}"] if cores > 1 else []), (rule, threads)
        # the landscape's two chunk jobs share them, and the line is sized like a chunk
        for rule in ("landscape_chunk", "landscape_line"):
            threads = [line for line in job_block(plan, rule) if line.startswith("threads:")]
            assert threads == (["threads: 3"] if cores == 6 else []), (rule, threads)


def test_rerun_triggers_follow_what_the_config_says_not_its_layout(study):
    workdir = study.parents[1]
    path = workdir / "config" / "config.yaml"
    original = path.read_text()
    config = yaml.safe_load(original)

    def reversed_keys(node):
        if isinstance(node, dict):
            return {key: reversed_keys(node[key]) for key in reversed(list(node))}
        return [reversed_keys(item) for item in node] if isinstance(node, list) else node

    text = yaml.safe_dump(reversed_keys(config), sort_keys=False)
    path.write_text("# the same study, its keys in another order\n\n" + text.replace("\n", "\n\n# a comment\n", 3))
    try:
        assert yaml.safe_load(path.read_text()) == config and path.read_text() != original
        proc = run_snakemake(workdir, "--dry-run")
    finally:
        path.write_text(original)
    assert "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[-3000:]


def test_best_json_pairs_the_chosen_cell_with_the_runner_up_on_the_same_images(study):
    import numpy as np

    best = json.loads((study / "search" / "best.json").read_text())
    cells = {}
    for metrics_path in (study / "search" / "cells").glob("*/metrics.json"):
        metrics = json.loads(metrics_path.read_text())
        key = json.dumps({k: metrics[k] for k in best["params"]}, sort_keys=True)
        cells[key] = (metrics, dict(np.load(metrics_path.parent / "val_predictions.npz")))
    chosen, chosen_predictions = cells[json.dumps(best["params"], sort_keys=True)]
    _, runner_predictions = cells[json.dumps(best["runner_up"]["params"], sort_keys=True)]
    split = pd.read_csv(study / "data" / "split.csv")
    assert list(chosen_predictions["index"]) == list(split.loc[split["subset"] == "val", "index"])
    labels = chosen_predictions["label"]
    right, runner_right = chosen_predictions["predicted"] == labels, runner_predictions["predicted"] == labels
    assert right.mean() == pytest.approx(best["val_acc"], abs=1e-12)  # the predictions are the validated ones
    paired = best["paired"]
    assert (paired["only_first"], paired["only_second"]) == (int(np.sum(right & ~runner_right)), int(np.sum(~right & runner_right)))
    assert paired["n"] == len(labels) and 0 < paired["p_value"] <= 1
    assert best["train_clean"] == {"loss": chosen["clean_train_loss"], "acc": chosen["clean_train_acc"]}
    assert 0 <= best["train_clean"]["acc"] <= 1 and best["seeds"] is None
    # a diverged cell keeps no predictions
    diverged = [m for m, p in cells.values() if m["status"] == "diverged"]
    assert diverged and all(cells[json.dumps({k: m[k] for k in best["params"]}, sort_keys=True)][1]["predicted"].size == 0 for m in diverged)
