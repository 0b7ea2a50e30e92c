"""Shared test set-up: the tests folder is importable (for fakedata) and plots never open windows."""

import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).parent))
