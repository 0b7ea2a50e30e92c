"""The registry of study kinds: every kind's declarations point at files that exist, the schema
lists exactly the registered kinds, and the kind of an old config is inferred."""

from pathlib import Path

import pytest
import yaml

from gridscape.config import ConfigError, load_schema, validate
from gridscape.kinds import KINDS, kind_of
from gridscape.kinds.base import figure

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "workflow"


def test_schema_lists_exactly_the_registered_kinds():
    assert load_schema()["properties"]["kind"]["enum"] == list(KINDS)


@pytest.mark.parametrize("name", list(KINDS))
def test_every_declared_file_of_a_kind_exists(name):
    kind = KINDS[name]
    configs = [{"search": {"method": method}} for method in ("grid", "random", "staged")] if name == "search" else [{}]
    for config in configs:
        for rule_file in kind.rule_files(config):
            assert (WORKFLOW / "rules" / rule_file).is_file(), rule_file
    assert (WORKFLOW / "report" / kind.report_template).is_file()
    assert (WORKFLOW / "report" / kind.landing).is_file()
    for output in kind.outputs:
        if output.caption:
            assert (WORKFLOW / "report" / f"{output.caption}.rst").is_file(), output.path
            assert output.category, output.path
    assert set(kind.sections) <= set(load_schema()["properties"]), kind.sections


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_summarises_a_run_and_says_nothing_of_files_it_lacks(name, tmp_path):
    from gridscape.kinds.base import _load

    kind = KINDS[name]
    assert callable(_load(kind.summary)) and callable(_load(kind.build_context))
    assert kind.summarise(tmp_path, {"study": "s"}) == []  # a run to part of the study: no file, no line


def test_old_configs_get_their_kind_inferred():
    assert kind_of({"study": "x"}).name == "search"
    assert kind_of({"study": "x", "exercises": {}}).name == "exercises"
    assert kind_of({"study": "x", "experiments": {"runs": [{"name": "a"}]}}).name == "experiments"
    for path in sorted((REPO / "config").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        assert validate(raw)["kind"] == raw.get("kind", "experiments" if raw.get("experiments", {}).get("runs") else "search")


def test_targets_follow_the_config():
    search = validate({"study": "s", "landscape": {"enabled": False}})
    targets = KINDS["search"].targets(search, "results/s")
    assert "results/s/search/grid.csv" in targets and "results/s/figures/grid_val_acc.png" in targets
    assert not any("landscape" in t for t in targets)
    with_landscape = KINDS["search"].targets(validate({"study": "s"}), "results/s")
    assert "results/s/figures/landscape_contour.pdf" in with_landscape
    runs = [{"name": "a"}, {"name": "b"}]
    experiments = validate({"study": "e", "experiments": {"runs": runs}})
    figures = KINDS["experiments"].figures(experiments)
    assert "figures/gradient_flow/a" in figures and "figures/gradient_flow/b" in figures
    exercises = validate({"study": "x", "kind": "exercises"})
    targets = KINDS["exercises"].targets(exercises, "results/x")
    assert "results/x/exercises/trajectories/adam_relu.csv" in targets
    assert not any(t.startswith(("results/x/data", "results/x/search")) for t in targets)


def test_a_bump_written_without_its_size_gets_the_defaults():
    config = validate({"study": "x", "exercises": {"functions": {"bump": {"type": "bump"}}}})
    assert config["exercises"]["functions"]["bump"] == {"type": "bump", "L": 1.0, "h": 0.5}
    assert validate(config) == config


def test_a_figure_declares_its_caption_and_labels():
    output = figure("gradient_flow/{experiment}", "Experiments", "Gradient flow", "", caption="gradient_flow",
                    labels={"experiment": "{experiment}"}, wildcards=lambda config: {"experiment": ["x", "y"]})
    assert output.expand({}) == ["figures/gradient_flow/x", "figures/gradient_flow/y"]
    assert output.figure and output.labels == {"experiment": "{experiment}"}


@pytest.mark.parametrize(
    "config, message",
    [
        ({"kind": "exercises", "search": {"axes": []}}, "config key search: a study of kind 'exercises'"),
        ({"kind": "exercises", "model": {"name": "vgg"}}, "expected no 'model' section"),
        ({"kind": "search", "experiments": {"runs": [{"name": "a"}]}}, "config key experiments: a study of kind 'search'"),
        ({"kind": "exercises", "exercises": {"trajectories": [{"name": "a", "function": "nope", "optimizer": "gd"}]}},
         "exercises.trajectories[0].function: 'nope' is not a function"),
        ({"kind": "exercises", "exercises": {"trajectories": [{"name": "check", "function": "relu", "optimizer": "gd"}]}},
         "exercises.trajectories[0].name: 'check' is taken"),
        ({"kind": "exercises", "exercises": {"escape": {"function": "relu"}}}, "exercises.escape.function: 'relu' is not a bump"),
        ({"kind": "exercises", "exercises": {"escape": {"h": {"min": 0.5, "max": 0.1}}}}, "exercises.escape.h: min 0.5 is not below max 0.1"),
        ({"kind": "exercises", "exercises": {"receptive_field": {"rows": [["conv 3"]]}}}, "exercises.receptive_field.rows[0][0]"),
        ({"kind": "exercises", "exercises": {"functions": {"relu": {"type": "bump"}}}}, "exercises.functions.relu"),
        ({"exercises": {"functions": {"bump": {"type": "bump"}, "r": {"type": "relu", "L": 2}}}},
         "exercises.functions.r.L: only a bump has L"),
        ({"exercises": {"ops": {"kernel": 64, "length": 4}}}, "exercises.ops.kernel: 64 is longer than the input"),
        ({"exercises": {"escape": {"steps": 100000}}}, "exercises.escape.steps: 100000 steps for each of 991 heights"),
        ({"exercises": {"receptive_field": {"rows": [["conv 100 100"] * 3]}}}, "exercises.receptive_field.rows[0]: its receptive field is 1000000"),
        ({"exercises": {"escape": {"h": {"step": float("nan")}}}}, "exercises.escape.h.step: nan is not a finite number"),
        ({"exercises": {"trajectories": []}}, "config key exercises.trajectories: [] should be non-empty"),
        ({"kind": ["search"]}, "config key kind: ['search'] is not a kind of study"),
    ],
)
def test_bad_kind_configs_name_the_key(config, message):
    with pytest.raises(ConfigError) as error:
        validate({"study": "t", **config})
    assert message in str(error.value)
