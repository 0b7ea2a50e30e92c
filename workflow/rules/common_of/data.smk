# The module-level names and input functions of data.smk.

from gridscape.data.registry import DATASETS
from gridscape.gpus import visible_gpu_count

DATASET = DATASETS[config["dataset"]["name"]]
DATA_DIR = f"{config['dataset']['root']}/{DATASET.name}"
TRAINING_SECTIONS = ("split", "model", "optimizer", "train", "device")


def training_config(base=config):
    """The config that changes a trained model (rerun triggers on these only): not the
    download mirror, the figures or the landscape."""
    return {
        "dataset": {"name": base["dataset"]["name"]},
        **{key: base[key] for key in TRAINING_SECTIONS},
    }


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
