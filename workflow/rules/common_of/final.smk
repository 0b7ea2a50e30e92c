# The module-level names of final.smk.

from gridscape.final.resolve import saves_normalisation

# The mean and std images of the final model's pixel normalisation (train.normalization
# pixel, or a search over it): written by train_final, read by every step that feeds it
# images. Other studies have no such file, so their rules keep the outputs and inputs they had.
FINAL_NORMALISATION = (
    {"normalisation": "results/{study}/final/normalisation.safetensors"}
    if saves_normalisation(config)
    else {}
)
