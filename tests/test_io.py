"""Atomic writes: a failed or killed step never leaves a partial result under the final name."""

import json
import math
import os

import numpy as np
import pytest

from gridscape import io


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "metrics.json"
    io.write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_results_are_readable_by_others(tmp_path):
    umask = os.umask(0o022)
    try:
        io.write_text(tmp_path / "x.txt", "x")
        with io.atomic_directory(tmp_path / "d") as d:
            (d / "f").write_text("f")
    finally:
        os.umask(umask)
    assert (tmp_path / "x.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755


def test_directory_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "pack"
    with pytest.raises(RuntimeError):
        with io.atomic_directory(target) as d:
            (d / "cell1").mkdir()
            raise RuntimeError("killed between cells")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with io.atomic_directory(target) as d:
        (d / "new").write_text("1")
    with io.atomic_directory(target) as d:
        (d / "newer").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["newer"]


def test_non_finite_numbers_become_null_and_npz_refuses_objects(tmp_path):
    io.write_json(tmp_path / "m.json", {"loss": math.nan, "acc": 0.5, "nested": [math.inf]})
    assert json.loads((tmp_path / "m.json").read_text()) == {"loss": None, "acc": 0.5, "nested": [None]}
    with pytest.raises(TypeError, match="pickling"):
        io.write_npz(tmp_path / "a.npz", bad=np.array([{"x": 1}], dtype=object))


def test_safetensors_files_are_byte_identical_across_processes(tmp_path):
    """safetensors writes its metadata from a Rust HashMap (a new order in every process);
    gridscape sorts it, so the same tensors give the same bytes in any process."""
    import subprocess
    import sys

    code = (
        "import sys, torch; from gridscape import io; "
        "io.write_safetensors(sys.argv[1], {'w': torch.arange(6.0).reshape(2, 3)}, "
        "{k: str(i) for i, k in enumerate('normalization ignore delta_seed eta_seed a b c d'.split())})"
    )
    paths = [tmp_path / f"{i}.safetensors" for i in range(6)]
    for path in paths:
        subprocess.run([sys.executable, "-c", code, str(path)], check=True)
    assert len({path.read_bytes() for path in paths}) == 1
    header = paths[0].read_bytes()[8:200].decode(errors="ignore")
    assert header.index('"a"') < header.index('"delta_seed"') < header.index('"normalization"')
