# The module-level names and input functions of data.smk.

from gridscape.config.schema import defaults_of
from gridscape.config.triggers import training_settings
from gridscape.data.registry import DATASETS
from gridscape.gpus import visible_gpu_count

DATASET = DATASETS[config["dataset"]["name"]]
DATA_DIR = f"{config['dataset']['root']}/{DATASET.name}"
SCHEMA_DEFAULTS = defaults_of(load_schema(SCHEMA))


def training_config(base=config):
    """The config that changes a trained model (rerun triggers on these only): not the
    download mirror, the figures or the landscape (gridscape/config/triggers.py)."""
    return training_settings(base, SCHEMA_DEFAULTS)


def is_gpu_job():
    """gpu=1 for GPU rules when they will use one: device cuda, or auto on a machine with a GPU.

    On a CPU-only machine 'auto' asks for none, so `--resources gpu=1` does not serialise
    the CPU jobs. A cluster profile sets gpu=1 per rule (the submitting host may have no GPU).
    """
    if config["device"] == "cuda":
        return 1
    if config["device"] == "auto" and visible_gpu_count() > 0:
        return 1
    return 0
