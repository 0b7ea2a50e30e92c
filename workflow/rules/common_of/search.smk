# The module-level names and input functions of search.smk.

from gridscape.kinds.search import grid_cells
from gridscape.search.packs import plan_packs

CELLS = {cell.name: cell for cell in grid_cells(config)}
PACKS = {
    pack.name: pack
    for pack in plan_packs(config, list(CELLS.values()), config["search"]["fuse"])
}
PACK_OF_CELL = {cell.name: pack.name for pack in PACKS.values() for cell in pack.cells}
AXIS_KEYS = [axis["key"] for axis in config["search"]["axes"]]


wildcard_constraints:
    cell="|".join(re.escape(name) for name in CELLS),
    pack="|".join(re.escape(name) for name in PACKS),


def pack_of(wildcards):
    return PACKS[wildcards.pack]


def pack_config(wildcards):
    """Everything that changes a pack's results: retrain it when any of this changes."""
    pack = PACKS[wildcards.pack]
    return {
        "models": list(pack.models),
        "cells": [cell.params for cell in pack.cells],
        **training_config(pack.cells[0].apply(config)),
    }


def pack_dir_of_cell(wildcards):
    return f"results/{wildcards.study}/search/packs/{PACK_OF_CELL[wildcards.cell]}"


# the search analysis (search_analysis.smk) reads a grid as one stage of trials
SEARCH_STAGES = [1]
