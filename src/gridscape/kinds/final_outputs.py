"""Outputs of the final model that a kind with one (the search kind) adds to its own: the
predictions for a few random test images and their figure (figures.test_predictions)."""

from __future__ import annotations

from typing import Mapping

from .base import figure, result


def has_test_predictions(config: Mapping) -> bool:
    """figures.test_predictions asks for at least one test image (0: no predictions)."""
    return int(config["figures"].get("test_predictions", 10)) > 0


PREDICTION_OUTPUTS = (
    result("final/predictions.csv", "test_predictions_table", "Final model", "Tables", "test predictions",
           when=has_test_predictions),
    figure("test_predictions", "Final model", "Predictions", "random test images", when=has_test_predictions),
)
