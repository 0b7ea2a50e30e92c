"""The report's search section for random and staged search: the space, the stages with what
each kept and how it narrowed the space, the best trial against its runner-up measured against
the validation set's sampling noise, and the edges of the last range searched. Computed from
``search/trials.csv``, the stages' ``space.json`` and ``best.json``."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from gridscape.config.keys import format_value

from .helpers import METRIC_NAMES, axis_name, finite
from .search_context import difference_se

METHOD_NAMES = {"random": "random search", "staged": "staged (coarse-to-fine) random search"}


def param_name(key: str) -> str:
    return axis_name(key)


def shown(value: Any) -> str:
    """A sampled value as the report prints it: three significant digits (the draws carry
    sixteen, which say nothing more), a list as its members or 'none'."""
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "none"
    if isinstance(value, float):
        return f"{value:.3g}"
    return format_value(value)


def settings_tex(params: Mapping[str, Any], keys: Sequence[str]) -> str:
    """'learning rate 0.00839, batch size 16' as LaTeX (names and values escaped)."""
    from .latex import escape_latex

    return ", ".join(f"{escape_latex(param_name(k))} {escape_latex(shown(params[k]))}" for k in keys if k in params)


def describe(param: Mapping[str, Any]) -> dict:
    """One parameter as the report's tables show it: its name, kind, range or values, scale."""
    kind = param["type"]
    if kind in ("float", "int"):
        values = f"{shown(param['low'])} to {shown(param['high'])}"
        scale = "log" if param["log"] else "linear"
    elif kind == "categorical":
        values, scale = ", ".join(shown(v) for v in param["values"]), ""
    else:
        free = [m for m in param["members"] if m not in param["fixed"]]
        fixed = [f"{m} {'on' if on else 'off'}" for m, on in param["fixed"].items()]
        values = "; ".join(part for part in (
            f"each of {', '.join(free)} on or off" if free else "", ", ".join(fixed)) if part)
        scale = ""
    kinds = {"float": "real", "int": "integer", "categorical": "one of", "subsets": "list members"}
    return {"key": param["key"], "name": param_name(param["key"]), "kind": kinds[kind], "range": values,
            "interval": f"[{shown(param['low'])}, {shown(param['high'])}]" if kind in ("float", "int") else values,
            "scale": scale}


def narrowing(before: Mapping[str, Any], after: Mapping[str, Any]) -> str | None:
    """How a parameter changed from one stage's space to the next, in words (None when it did
    not): a range or a list of values from before to after, list members newly fixed."""
    name = param_name(before["key"])
    if before["type"] == "subsets":
        fixed = [f"{member} always {'on' if on else 'off'}" for member, on in after["fixed"].items()
                 if member not in before["fixed"]]
        return f"the {name} to {', '.join(fixed)}" if fixed else None
    first, second = describe(before), describe(after)
    if first["interval"] == second["interval"]:
        return None
    if before["type"] == "categorical":
        return f"the {name} from {{{first['interval']}}} to {{{second['interval']}}}"
    return f"the {name} from {first['interval']} to {second['interval']}"


def stages_context(spaces: Sequence[Mapping[str, Any]], trials: pd.DataFrame, metric: str, num_classes: int) -> list[dict]:
    from gridscape.search.space import learning

    stages = []
    for index, space in enumerate(spaces):
        rows = trials[trials["stage"] == space["stage"]]
        ok = rows[rows["status"] == "ok"]
        values = pd.to_numeric(ok[metric], errors="coerce").dropna()
        best_value = (values.max() if metric == "val_acc" else values.min()) if len(values) else None
        previous = spaces[index - 1] if index else None
        changes = []
        if previous is not None:
            changes = [c for c in (narrowing(b, a) for b, a in zip(previous["params"], space["params"])) if c]
        stages.append({
            "stage": int(space["stage"]),
            "trials": int(len(rows)),
            "epochs": int(space["epochs"]),
            "keep_top": space.get("keep_top"),
            "kept": list(space.get("kept", [])),
            "n_learning": int(learning(rows, num_classes).sum()),
            "n_diverged": int((rows["status"] != "ok").sum()),
            "best_value": finite(best_value),
            "changes": changes,
            "seconds": float(pd.to_numeric(rows["seconds"], errors="coerce").fillna(0).sum()),
        })
    return stages


def trials_search_context(
    config: Mapping, trials: pd.DataFrame, best: Mapping[str, Any], spaces: Sequence[Mapping[str, Any]], n_val: int,
    num_classes: int,
) -> dict:
    """The search section's context for ``search.method`` random or staged."""
    method = config["search"]["method"]
    metric = best.get("metric", config["search"]["metric"])
    params = spaces[0]["params"]
    keys = [param["key"] for param in params]
    final_keys = keys + (["train.epochs"] if "train.epochs" not in keys else [])
    best_params = best.get("params", {})
    last = trials[trials["stage"] == best.get("stage", spaces[-1]["stage"])]
    runner = best.get("runner_up")
    margin = finite(best.get("margin"))
    noise: dict[str, Any] = {}
    if runner is not None and metric == "val_acc" and margin is not None and n_val:
        se = difference_se(finite(best.get("value")) or 0.0, n_val, finite(runner.get("value")) or 0.0, n_val)
        noise = {"images": round(margin * n_val), "se": se, "ratio": margin / se if se else None,
                 "significant": bool(se) and margin > 2 * se}
    elif runner is not None and metric == "val_loss" and margin is not None and best.get("value"):
        noise = {"relative": margin / best["value"], "significant": margin / best["value"] > 0.05}
    last_space = {param["key"]: param for param in spaces[-1]["params"]}
    edges = []
    for key in best.get("on_edge", []) or []:
        param = last_space[key]
        value = float(best_params[key])
        side = "low" if abs(value - param["low"]) <= abs(param["high"] - value) else "high"
        edges.append({"key": key, "name": param_name(key), "value": shown(best_params[key]), "side": side,
                      "end": shown(param["low"] if side == "low" else param["high"]),
                      "widened": spaces[0]["params"][keys.index(key)][side] == param[side]})
    seconds = pd.to_numeric(trials["seconds"], errors="coerce").fillna(0)
    return {
        "method": method,
        "method_name": METHOD_NAMES[method],
        "metric": metric,
        "metric_name": METRIC_NAMES.get(metric, metric),
        "higher_is_better": metric != "val_loss",
        "reason": str(config["search"].get("reason") or "").strip(),
        "seed": int(config["search"]["seed"]),
        "space": [describe(param) for param in params],
        "keys": final_keys,
        "stages": stages_context(spaces, trials, metric, num_classes),
        "n_trials": int(len(trials)),
        "n_stage_trials": int(len(last)),
        "n_diverged": int((trials["status"] != "ok").sum()),
        "diverged_last": list(best.get("diverged", [])),
        "best": {
            "trial": best.get("trial"),
            "stage": best.get("stage"),
            "params": best_params,
            "label_tex": settings_tex(best_params, final_keys),
            "value": finite(best.get("value")),
            "val_acc": finite(best.get("val_acc")),
            "val_loss": finite(best.get("val_loss")),
        },
        "runner_up": None if runner is None else {
            "trial": runner.get("trial"), "value": finite(runner.get("value")),
            "label_tex": settings_tex(runner.get("params", {}), final_keys),
        },
        "margin": margin,
        "noise": noise,
        "ties": list(best.get("tied_with", []) or []),
        "edges": edges,
        "total_seconds": float(seconds.sum()),
        "epochs_searched": "train.epochs" in keys,
    }
