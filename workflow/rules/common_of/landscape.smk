# The module-level names and input functions of landscape.smk.

from gridscape.landscape.grid import PlaneGrid, effective_chunks

LANDSCAPE = config["landscape"]
LANDSCAPE_CHUNKS = effective_chunks(
    PlaneGrid.from_config(LANDSCAPE).size, LANDSCAPE["chunks"]
)
# The keys each rule depends on, so that e.g. changing line_points reruns only the line.
LANDSCAPE_DATA_KEYS = ("data", "subset_size", "subset_seed", "eval_batch_size")
LANDSCAPE_DIRECTION_KEYS = ("delta_seed", "eta_seed", "normalization", "ignore")
LANDSCAPE_GRID_KEYS = ("alpha", "beta", "chunks", "method")


def landscape_params(*keys):
    """The landscape keys a rule reads; the grid's rules also read ``precision``, which is left
    out at its default (float32), so studies from before the key keep their chunks."""
    params = {key: LANDSCAPE[key] for key in keys}
    if "chunks" in keys and LANDSCAPE["precision"] != "float32":
        params["precision"] = LANDSCAPE["precision"]
    return params


def landscape_line_params():
    """The line needs the alpha range, not its number of points."""
    params = landscape_params(*LANDSCAPE_DATA_KEYS, "method", "line_points")
    params["alpha"] = {key: LANDSCAPE["alpha"][key] for key in ("min", "max")}
    return params


def landscape_subset_output():
    """subset_indices.csv exists only when a subset is asked for."""
    if LANDSCAPE["subset_size"] is None:
        return {}
    return {"subset": "results/{study}/landscape/subset_indices.csv"}


LANDSCAPE_MODEL_INPUTS = dict(
    data=rules.prepare.output[0],
    split=rules.split.output.split,
    final=rules.resolve_final.output.final,
    model=rules.train_final.output.model,
    **FINAL_NORMALISATION,  # the final model's pixel statistics, where it has them
)
