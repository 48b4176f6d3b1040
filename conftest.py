"""Loaded by pytest for every test, notebooks included: nbval's kernels run with encrypted
transport (see tools/kernel_transport.py), so ipykernel logs no "running over TCP without
encryption" warning. What the tests share is in tests/book.py."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))

import kernel_transport  # noqa: E402,F401
