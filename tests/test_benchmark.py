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
    command = [
        sys.executable, str(ROOT / "benchmarks" / "run.py"), "--train-images", "320", "--eval-images", "200",
        "--points", "4", "--repeats", "1", "--grid-epochs", "1", "--output", str(output),
    ]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    text = output.read_text()
    rows = re.findall(r"^\| (.+?) \| (.+?) \| (.+?) \| ([0-9.]+)x \|$", text, flags=re.MULTILINE)
    assert [row[0].split(" ")[0] for row in rows] == ["one", "3x3", "4", "the"]
    assert all(float(row[3]) > 0 for row in rows)
    assert "(`method: auto` chose loop)" in text
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
