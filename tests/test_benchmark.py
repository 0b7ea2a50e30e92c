"""benchmarks/run.py on tiny data: every comparison runs and results.md reports it.

The numbers themselves are measurements for benchmarks/results.md, not test assertions; this
checks that the script still runs against the package's current API and writes every row.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_runs_every_comparison_and_writes_results(tmp_path):
    output = tmp_path / "results.md"
    # a whole-study section (benchmarks/study.py) and notes after it: the rewrite keeps them
    study_section = "<!-- benchmark-study: start -->\nthe study's numbers\n<!-- benchmark-study: end -->\n\n## Notes\n"
    output.write_text("# an older table\n\n" + study_section)
    command = [
        sys.executable, str(ROOT / "benchmarks" / "run.py"), "--train-images", "320", "--eval-images", "200",
        "--points", "4", "--job-points", "9", "--repeats", "1", "--grid-epochs", "1", "--output", str(output),
    ]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    text = output.read_text()
    assert text.endswith("\n" + study_section) and "an older table" not in text
    rows = re.findall(r"^\| (.+?) \| (.+?) \| (.+?) \| ([0-9.]+)x \|$", text, flags=re.MULTILINE)
    assert [row[0].split(" ")[0] for row in rows] == ["one", "3x3", "a", "the", "the"]
    assert all(float(row[3]) > 0 for row in rows)
    assert "(`method: auto` chose first_layer)" in text and "`method: loop`" in rows[4][0]
    assert "the reference way over 4 points, gridscape's ways over a chunk job's 9" in text
    assert re.search(r"With gridscape's model the notebook epoch takes [0-9.]+ s", text)
    memory = re.search(r"CIFAR-10 training job .*9 fused LeNet-5s, 1 epoch on 320 images, read from a prepared "
                       r"\.npz of 556 uint8 images\): (\d+) MB", text)
    assert memory and int(memory.group(1)) > 100


def test_checkpoint_benchmark_measures_both_jobs(tmp_path):
    output = tmp_path / "checkpoint.md"
    command = [sys.executable, str(ROOT / "benchmarks" / "checkpoint.py"), "--steps", "1", "--threads", "1",
               "--train-images", "300", "--out", str(output)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    rows = re.findall(r"^\| (.+?) \| ([0-9,]+) \| ([0-9.]+) MB \| (\d+) ms \| (\d+) ms \|", output.read_text(), flags=re.MULTILINE)
    assert [row[0].split(":")[0] for row in rows] == ["default study's grid pack", "MLP coursework's VGG_38"]
    (_, pack_parameters, pack_mb, *_), (_, vgg_parameters, vgg_mb, *_) = rows
    # float32 weights and one buffer each for SGD with momentum, two for Adam
    assert float(pack_mb) * 1e6 >= 2 * 4 * int(pack_parameters.replace(",", "")) * 0.99
    assert float(vgg_mb) * 1e6 >= 3 * 4 * int(vgg_parameters.replace(",", "")) * 0.99


def study_benchmark():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import study

    return study


def test_the_study_floor_counts_lenet5_by_hand():
    """LeNet-5 on 3x32x32: 6x28x28 outputs of 75 multiply-adds, 16x10x10 of 150, then
    400x120, 120x84 and 84x10: 651,720 multiply-adds, 1,303,440 floating-point operations."""
    config = {"dataset": {"name": "cifar10"}, "model": {"name": "lenet5", "activation": "relu"}}
    assert study_benchmark().forward_flops(config) == 2 * (6 * 28 * 28 * 75 + 16 * 10 * 10 * 150 + 400 * 120 + 120 * 84 + 84 * 10)
    mnist = {"dataset": {"name": "mnist"}, "model": {"name": "lenet5", "activation": "relu"}}
    assert study_benchmark().forward_flops(mnist) == 2 * (6 * 28 * 28 * 25 + 16 * 10 * 10 * 150 + 400 * 120 + 120 * 84 + 84 * 10)


def test_the_study_section_replaces_its_last_run_and_keeps_the_rest(tmp_path):
    study = study_benchmark()
    results = tmp_path / "results.md"
    results.write_text("# Benchmark\n\ncomponent rows\n")
    study.write_section(results, f"{study.START}\nfirst run\n{study.END}\n")
    study.write_section(results, f"{study.START}\nsecond run\n{study.END}\n")
    text = results.read_text()
    assert text.startswith("# Benchmark\n\ncomponent rows\n") and "second run" in text and "first run" not in text
    assert text.count(study.START) == text.count(study.END) == 1


def test_a_job_logs_its_start_up_and_its_peak_memory(tmp_path):
    log = tmp_path / "logs" / "job.log"
    script = f"from gridscape.logs import log_to_file\nlog_to_file({str(log)!r}).info('work')\nblock = bytearray(200 * 2**20)\n"
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    lines = log.read_text().splitlines()
    assert "start-up:" in lines[0] and lines[1].endswith("work") and "peak resident memory:" in lines[-1]
    assert 0 < float(lines[0].split("start-up:")[1].split()[0]) < 60
    assert float(lines[-1].split("peak resident memory:")[1].split()[0]) >= 200  # the 200 MB block
