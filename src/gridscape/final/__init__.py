"""The final model stage: its settings resolved once, its retraining and its test."""
