"""How the results were made: commit, versions, device, seeds and the time of each rule."""

from __future__ import annotations

import csv
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Mapping

PACKAGES = ("torch", "torchvision", "snakemake", "numpy", "matplotlib", "jinja2")


def git_commit(repo: str | Path) -> dict:
    """The checkout's commit and whether it had uncommitted changes (read-only git calls)."""
    repo = Path(repo)

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30
        )

    try:
        head = git("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError) as error:
        return {"commit": f"unknown (git not available: {error.__class__.__name__})", "dirty": None}
    if head.returncode != 0:
        message = (head.stderr.strip().splitlines() or ["git failed"])[-1]
        if "not a git repository" in message:
            return {"commit": "not a git checkout", "dirty": None}
        return {"commit": f"unknown ({message[:120]})", "dirty": None}
    commit = head.stdout.strip()
    try:
        status = git("status", "--porcelain", "--untracked-files=no")
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        dirty = None
    return {"commit": commit, "dirty": dirty}


def versions(packages=PACKAGES) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def read_benchmark(path: str | Path) -> dict | None:
    """The first row of a Snakemake benchmark TSV (``s``, ``max_rss``, ``cpu_time``, ...)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except OSError:
        return None
    if not rows:
        return None
    row = rows[0]

    def number(key):
        try:
            return float(row[key])
        except (KeyError, TypeError, ValueError):
            return None

    return {"seconds": number("s"), "max_rss_mb": number("max_rss"), "cpu_seconds": number("cpu_time")}


def rule_times(benchmarks: str | Path) -> list[dict]:
    """One entry per rule with benchmark files: jobs, total, shortest and longest wall time.

    ``benchmarks/<rule>.tsv`` is a rule with one job; ``benchmarks/<rule>/<wildcard>.tsv``
    one job per wildcard value (grid cells, landscape chunks).
    """
    root = Path(benchmarks)
    if not root.is_dir():
        return []
    groups: dict[str, list[dict]] = {}
    for path in sorted(root.rglob("*.tsv")):
        relative = path.relative_to(root)
        rule = relative.parts[0] if len(relative.parts) > 1 else path.stem
        bench = read_benchmark(path)
        if bench is not None and bench["seconds"] is not None:
            groups.setdefault(rule, []).append({**bench, "job": path.stem})
    out = []
    for rule, jobs in groups.items():
        seconds = [job["seconds"] for job in jobs]
        rss = [job["max_rss_mb"] for job in jobs if job["max_rss_mb"] is not None]
        out.append(
            {
                "rule": rule,
                "jobs": len(jobs),
                "total_seconds": sum(seconds),
                "min_seconds": min(seconds),
                "max_seconds": max(seconds),
                "max_rss_mb": max(rss) if rss else None,
            }
        )
    order = {"train_cell": 0, "train_final": 1, "evaluate_final": 2}
    out.sort(key=lambda r: (order.get(r["rule"], 3), r["rule"]))
    return out


def seeds(config: Mapping) -> list[dict]:
    """Every seed of the study, with what it controls."""
    out = [
        {"key": "split.seed", "value": config.get("split", {}).get("seed"), "controls": "the stratified train/validation split"},
        {"key": "train.seed", "value": config.get("train", {}).get("seed"), "controls": "weight initialisation, shuffling and augmentation"},
    ]
    landscape = config.get("landscape", {}) or {}
    if landscape.get("enabled"):
        out += [
            {"key": "landscape.delta_seed", "value": landscape.get("delta_seed"), "controls": "the direction δ (along α)"},
            {"key": "landscape.eta_seed", "value": landscape.get("eta_seed"), "controls": "the direction η (along β)"},
        ]
        if landscape.get("subset_size") is not None:
            out.append({"key": "landscape.subset_seed", "value": landscape.get("subset_seed"), "controls": "the evaluation subset"})
    ops = (config.get("exercises", {}) or {}).get("ops")
    if ops:
        out.append({"key": "exercises.ops.seed", "value": ops.get("seed"), "controls": "the generated input, filter and weights of question 4"})
    searched = [axis.get("key") for axis in config.get("search", {}).get("axes", [])]
    for entry in out:
        entry["searched"] = entry["key"] in searched
    return [entry for entry in out if entry["value"] is not None]


def provenance(
    config: Mapping, repo: str | Path, metrics: Mapping, benchmarks: str | Path, snakemake_version: str | None = None
) -> dict:
    """The appendix facts in one mapping (``snakemake_version`` from the workflow, whose jobs
    may run in an environment without Snakemake)."""
    found = versions()
    if snakemake_version:
        found["snakemake"] = str(snakemake_version)
    return {
        "git": git_commit(repo),
        "versions": found,
        "device": metrics.get("device", "not recorded"),
        "seeds": seeds(config),
        "rule_times": rule_times(benchmarks),
        "platform": platform.platform(terse=True),
    }
