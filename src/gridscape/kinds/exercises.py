"""The exercises kind: worked exercises with no dataset, no training loop and no final model
(NUS CS5242 assignment 2, questions 1, 4 and 6): optimiser traces on 1-D functions, the
largest bump Adam escapes, receptive fields of layer stacks, and six layers re-implemented
without a deep-learning library and compared with torch."""

from __future__ import annotations

from typing import Mapping

from gridscape.config.errors import ConfigError
from gridscape.exercises.functions import BUILTIN as BUILT_IN_FUNCTIONS

from .base import StudyKind, check_distinct_names, figure, result
from .common import REPORT_OUTPUTS

# What a job may be asked for: the escape scan keeps every step of every height in memory
# (six float64 arrays), and autograd measures a receptive field on an image larger than it.
MAX_ESCAPE_VALUES = 5_000_000
MAX_RECEPTIVE_FIELD = 2048


def receptive_field_of(row: list[str]) -> int:
    """r <- r + (k - 1) j, j <- j s over 'kind k s' layers (the schema checked their form)."""
    field, jump = 1, 1
    for layer in row:
        _, kernel, stride = layer.split()
        field, jump = field + (int(kernel) - 1) * jump, jump * int(stride)
    return field


def check(config: Mapping, schema: Mapping) -> None:
    """Trajectory names distinct, every function named exists, the escape scan varies a bump
    over a non-empty range of heights."""
    exercises = config["exercises"]
    functions = exercises["functions"]
    for name, spec in functions.items():
        extra = [key for key in ("L", "h") if key in spec and spec["type"] != "bump"]
        if extra:
            raise ConfigError(
                f"config key exercises.functions.{name}.{extra[0]}: only a bump has {extra[0]}, "
                f"but this function is a {spec['type']}; expected no {extra[0]}"
            )
    clash = sorted(set(functions) & set(BUILT_IN_FUNCTIONS))
    if clash:
        raise ConfigError(
            f"config key exercises.functions.{clash[0]}: the name is one of the built-in functions "
            f"({', '.join(BUILT_IN_FUNCTIONS)}); expected another name"
        )
    known = [*functions, *BUILT_IN_FUNCTIONS]
    check_distinct_names([run["name"] for run in exercises["trajectories"]], "exercises.trajectories")
    for index, run in enumerate(exercises["trajectories"]):
        if run["name"] == "check":
            raise ConfigError(
                f"config key exercises.trajectories[{index}].name: 'check' is taken by the file that compares "
                "the Adam runs with torch (exercises/trajectories/check.csv); expected another name"
            )
        if run["function"] not in known:
            raise ConfigError(
                f"config key exercises.trajectories[{index}].function: {run['function']!r} is not a function; "
                f"expected one of {', '.join(known)}"
            )
    escape = exercises["escape"]
    if functions.get(escape["function"], {}).get("type") != "bump":
        bumps = [name for name, spec in functions.items() if spec["type"] == "bump"] or ["a bump defined in exercises.functions"]
        raise ConfigError(
            f"config key exercises.escape.function: {escape['function']!r} is not a bump of exercises.functions; "
            f"expected one of {', '.join(bumps)}"
        )
    heights = escape["h"]
    if heights["min"] >= heights["max"]:
        raise ConfigError(
            f"config key exercises.escape.h: min {heights['min']} is not below max {heights['max']}; expected min < max"
        )
    count = (heights["max"] - heights["min"]) / heights["step"] + 1
    if count * (escape["steps"] + 1) > MAX_ESCAPE_VALUES:
        raise ConfigError(
            f"config key exercises.escape.steps: {escape['steps']} steps for each of {int(count)} heights from "
            f"{heights['min']} to {heights['max']} (step {heights['step']}) is more than {MAX_ESCAPE_VALUES:,} "
            "values to keep; expected fewer steps or a coarser exercises.escape.h.step"
        )
    for index, row in enumerate(exercises["receptive_field"]["rows"]):
        field = receptive_field_of(row)
        if field > MAX_RECEPTIVE_FIELD:
            raise ConfigError(
                f"config key exercises.receptive_field.rows[{index}]: its receptive field is {field} pixels, which "
                f"autograd would measure on an image of over {field}x{field}; expected at most {MAX_RECEPTIVE_FIELD}"
            )
    ops = exercises["ops"]
    if ops["kernel"] > ops["length"]:
        raise ConfigError(
            f"config key exercises.ops.kernel: {ops['kernel']} is longer than the input "
            f"(exercises.ops.length {ops['length']}); expected at most {ops['length']}"
        )


def trajectory_names(config: Mapping) -> dict[str, list[str]]:
    return {"name": [run["name"] for run in config["exercises"]["trajectories"]]}


OUTPUTS = (
    result("exercises/trajectories/{name}.csv", wildcards=trajectory_names),
    result("exercises/trajectories/check.csv", "exercises_check", "Question 1", "Tables", "own Adam against torch"),
    result("exercises/escape.csv", "exercises_escape_table", "Question 1", "Tables", "escape scan"),
    result("exercises/escape.json"),
    result("exercises/receptive_field.csv", "exercises_receptive_field", "Question 6", "Tables", "receptive fields"),
    result("exercises/ops.csv", "exercises_ops", "Question 4", "Tables", "layers against torch"),
    result("exercises/ops_inputs.npz"),
    figure("functions", "Question 1", "Functions", "the four functions", caption="exercises_functions"),
    figure("escape", "Question 1", "Escape", "largest x against h", caption="exercises_escape"),
    figure("trajectory/{name}", "Question 1", "Traces", "", caption="exercises_trajectory",
           labels={"run": "{name}"}, wildcards=trajectory_names),
    *REPORT_OUTPUTS,
)


def report_inputs(config: Mapping) -> dict:
    return {
        "trajectories": [
            f"results/{{study}}/exercises/trajectories/{name}.csv" for name in trajectory_names(config)["name"]
        ],
        "check": "results/{study}/exercises/trajectories/check.csv",
        "escape_csv": "results/{study}/exercises/escape.csv",
        "escape_json": "results/{study}/exercises/escape.json",
        "receptive_field": "results/{study}/exercises/receptive_field.csv",
        "ops": "results/{study}/exercises/ops.csv",
    }


EXERCISES = StudyKind(
    name="exercises",
    description="worked exercises without a dataset: optimiser traces, receptive fields, layers re-implemented",
    sections=frozenset({"exercises"}),
    check=check,
    rules=("exercises.smk",),
    outputs=OUTPUTS,
    report_inputs=report_inputs,
    build_context="gridscape.report.exercises_context:context_from_files",
    summary="gridscape.summary.exercises:summarise",
    report_template="exercises_report.tex.j2",
    landing="workflow-exercises.rst",
    uses_dataset=False,
)
