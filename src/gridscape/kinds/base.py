"""What a kind of study declares: the sections it reads, its checks, its runs, its rule files,
its result files and figures, and its report.

The workflow and the config check read these declarations instead of branching on the kind,
so a new kind of study is a new module beside this one (and its rule file and templates),
not an edit of a dozen places. Nothing here imports torch or Snakemake.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

# The sections every study has, whatever its kind.
COMMON_SECTIONS = frozenset({"study", "title", "notes", "kind"})


def always(_config: Mapping) -> bool:
    return True


def no_wildcards(_config: Mapping) -> dict[str, list[str]]:
    return {}


@dataclass(frozen=True)
class Output:
    """One declared result file or figure of a kind, under ``results/{study}/``.

    ``path`` may hold wildcards (``figures/gradient_flow/{experiment}``) that ``wildcards``
    fills from the config. A figure is ``path`` + ``.png`` and ``.pdf``; its PNG is the one
    Snakemake's HTML report shows, and its PDF the one the LaTeX report includes. An output
    with a ``caption`` appears in the HTML report under ``category`` / ``subcategory``.
    """

    path: str
    figure: bool = False
    caption: str = ""  # an .rst file in workflow/report/, without the suffix
    category: str = ""
    subcategory: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    when: Callable[[Mapping], bool] = always
    wildcards: Callable[[Mapping], Mapping[str, Sequence[str]]] = no_wildcards
    in_latex: bool = True  # a figure the LaTeX report includes

    def expand(self, config: Mapping) -> list[str]:
        """The concrete paths (figures without suffix) of this output for ``config``."""
        if not self.when(config):
            return []
        paths = [self.path]
        for name, values in self.wildcards(config).items():
            paths = [path.replace("{" + name + "}", str(value)) for path in paths for value in values]
        return paths


def figure(path: str, category: str, subcategory: str, label: str, caption: str = "", **options: Any) -> Output:
    """A figure under ``figures/``; its caption file defaults to its name."""
    name = path.rsplit("/", 1)[-1]
    labels = options.pop("labels", None) or {"result": label}
    return Output(
        f"figures/{path}", figure=True, caption=caption or name, category=category,
        subcategory=subcategory, labels=labels, **options,
    )


def result(path: str, caption: str = "", category: str = "", subcategory: str = "", label: str = "", **options: Any) -> Output:
    labels = {"result": label} if label else {}
    return Output(path, caption=caption, category=category, subcategory=subcategory, labels=labels, **options)


@dataclass(frozen=True)
class Run:
    """One training run a kind asks for: a grid cell, a named experiment, later a trial.

    ``name`` is a file-name-safe id, ``params`` the dotted keys it sets on the study's config,
    ``title`` the label shown in tables (default: its settings).
    """

    name: str
    params: dict[str, Any]
    title: str = ""
    where: str = field(default="", compare=False, repr=False)  # how errors name it: "search cell lr=0.1"

    def apply(self, config: Mapping) -> dict:
        """A copy of ``config`` with this run's values set."""
        from gridscape.config.keys import with_values

        return with_values(config, self.params)

    @property
    def label(self) -> str:
        from gridscape.config.keys import format_value

        if self.title:
            return self.title
        return ", ".join(f"{key.split('.')[-1]}={format_value(value)}" for key, value in self.params.items())


def check_distinct_names(names: Sequence[str], key: str) -> None:
    """Names that become file names must differ: one file per name."""
    from gridscape.config.errors import ConfigError

    repeated = sorted({name for name in names if list(names).count(name) > 1})
    if repeated:
        raise ConfigError(f"config key {key}: the name {', '.join(repeated)} is used twice; expected distinct names")


def _load(dotted: str) -> Callable:
    """``module:function`` imported on first use: the Snakefile reads the registry at every
    start, and a report builder's imports (pandas, jinja) belong to the report job alone."""
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class StudyKind:
    """The declarations of one kind of study.

    ``sections``: the config sections it reads besides ``study``, ``title`` and ``kind``; any
    other section in a study of this kind is an error naming it. ``ignored_keys``: keys inside
    those sections that this kind does not read (an error when set). ``check_written``: its
    checks of the config as written (raw, and the schema's defaults), before the schema's;
    ``check``: its checks after the schema's, raising ConfigError. ``runs``: the training runs whose whole settings
    ``check_run`` sees. ``rules``: its rule files under ``workflow/rules/`` (or a function of
    the config giving them). ``outputs``: its
    result files and figures, read by the ``all`` target, the HTML report and the LaTeX
    report's inputs. ``report_inputs``: the named files its report reads. ``build_context``
    (``module:function``) makes the report's context from those files; ``report_template``
    is the template under ``workflow/report/`` and ``landing`` the HTML report's front page.
    ``summary`` (``module:function``, given the study's results folder and config) yields the
    lines the terminal shows at the end of a run: its headline numbers.
    """

    name: str
    description: str
    sections: frozenset[str]
    check: Callable[[dict, Mapping], None]
    rules: tuple[str, ...] | Callable[[Mapping], tuple[str, ...]]
    outputs: tuple[Output, ...]
    report_inputs: Callable[[Mapping], dict[str, Any]]
    build_context: str
    report_template: str
    landing: str
    runs: Callable[[Mapping], list[Run]] = lambda config: []
    check_written: Callable[[Mapping, Mapping], None] = lambda raw, defaults: None
    ignored_keys: tuple[str, ...] = ()
    uses_dataset: bool = True
    summary: str = ""

    @property
    def reads(self) -> frozenset[str]:
        return COMMON_SECTIONS | self.sections

    def targets(self, config: Mapping, prefix: str) -> list[str]:
        """Every declared file of the study: result files, and each figure as PNG and PDF."""
        paths = []
        for output in self.outputs:
            for path in output.expand(config):
                suffixes = (".png", ".pdf") if output.figure else ("",)
                paths += [f"{prefix}/{path}{suffix}" for suffix in suffixes]
        return paths

    def figures(self, config: Mapping, latex_only: bool = True) -> list[str]:
        """The study's figures, as paths under ``results/{study}/`` without suffix."""
        return [
            path for output in self.outputs if output.figure and (output.in_latex or not latex_only)
            for path in output.expand(config)
        ]

    def context(self, inputs: Mapping[str, Any], common: Mapping[str, Any]) -> dict:
        return _load(self.build_context)(inputs, common)

    def summarise(self, results: Path, config: Mapping) -> list[str]:
        return list(_load(self.summary)(results, config)) if self.summary else []

    def rule_files(self, config: Mapping) -> tuple[str, ...]:
        """The rule files of a study of this kind (they may depend on its config)."""
        return tuple(self.rules(config) if callable(self.rules) else self.rules)

    def declared(self, path: str, config: Mapping | None = None) -> Output | None:
        """The declaration of ``path`` (as written in the rule, under ``results/{study}/``);
        with ``config``, the one that applies to it where two declare the same path."""
        matches = [output for output in self.outputs if output.path == path]
        if config is not None:
            matches = [output for output in matches if output.when(config)] or matches
        return matches[0] if matches else None


def run_values(config: Mapping, runs: Sequence[Run], keys: Sequence[str]) -> dict[str, list]:
    """The values the ``runs`` give each of ``keys`` (dotted, as set or inherited from the
    study), for the keys whose value differs between runs: a grid axis, an experiment's setting."""
    from gridscape.config.keys import get_key

    out = {}
    for key in keys:
        seen: list = []
        for run in runs:
            value = get_key(run.apply(config), key)
            if value not in seen:
                seen.append(value)
        if len(seen) > 1:
            out[key] = seen
    return out
