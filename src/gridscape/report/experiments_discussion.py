"""The named-experiments report's discussion (the coursework's question 4: what the results
show and which experiments would come next) and conclusions (question 5), from the rows of
``experiments_context.experiment_rows``. Each sentence comes from a comparison of numbers in
``results.csv``; none assumes which experiments a study ran."""

from __future__ import annotations

from typing import Mapping, Sequence

from .helpers import finite

# A generalisation gap (last training accuracy minus last validation accuracy) above this is
# called large: the training curve's accuracy is a running mean under augmentation, so small
# gaps say little.
LARGE_GAP = 0.10


def fix_effects(rows: Sequence[Mapping]) -> list[dict]:
    """Each learning network set against the stuck ones of the same depth: what it changed."""
    effects = []
    stuck = [r for r in rows if r["stuck"]]
    for row in rows:
        if not row["learning"]:
            continue
        for base in stuck:
            # only networks of a known depth (VGG's): a LeNet's depth is not a variant
            if row["model"].get("depth") is not None and row["model"].get("depth") == base["model"].get("depth"):
                effects.append({"fixed": row["label"], "stuck": base["label"],
                                "variant": row["model"].get("variant"), "val_acc": float(row["val_acc"])})
                break
    return effects


def discussion(rows: Sequence[Mapping], best: Mapping, epochs: int, rate_pairs: Sequence[Mapping] = (),
               repeated: bool = False) -> dict:
    """What the results support, and the next experiments they suggest. ``rate_pairs``: the
    runs that differ only in the learning rate (``experiments_topics.one_key_pairs``)."""
    learning = [r for r in rows if r["learning"]]
    gaps = [{"label": r["label"], "gap": float(r["last_train_acc"]) - float(r["last_val_acc"])}
            for r in learning if finite(r["last_train_acc"]) is not None and finite(r["last_val_acc"]) is not None]
    large = [g for g in gaps if g["gap"] > LARGE_GAP]
    pairs = [p for p in rate_pairs if p["se"] is not None]
    further = []
    if best and int(best["test_epoch"]) == int(best["epochs_run"]) == epochs:
        further.append(
            f"{best['label']} was best at its last epoch ({epochs}): its validation accuracy may still be rising, "
            "so a longer run would show whether it has converged."
        )
    if large:
        further.append(
            "The largest gap between training and validation accuracy is "
            f"{100 * max(g['gap'] for g in large):.1f} percentage points ({max(large, key=lambda g: g['gap'])['label']}): "
            "weight decay, stronger augmentation or dropout would test whether that gap can be closed."
        )
    for pair in pairs:
        better, worse = ("second", "first") if pair["difference"] >= 0 else ("first", "second")
        if pair["real"]:
            further.append(
                f"Learning rate {pair[better + '_value']} validated better than {pair[worse + '_value']} "
                f"({pair[better]} against {pair[worse]}), beyond the noise of the validation set; rates between "
                "and beyond the two would locate the best one."
            )
        else:
            further.append(
                f"Learning rates {pair['first_value']} and {pair['second_value']} ({pair['first']}, {pair['second']}) "
                "validate within the noise of the validation set: more validation images or repeated seeds would "
                "be needed to tell them apart."
            )
    if not repeated:
        further.append(
            "Each experiment ran once, from one seed: repeating them with other seeds (train.seed) would measure "
            "how much of every difference in the table is the noise of training itself."
        )
    return {"gaps": gaps, "large_gaps": large, "rate_pairs": pairs, "fixes": fix_effects(rows), "further": further}
