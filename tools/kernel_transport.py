"""Encrypt the transport of every Jupyter kernel the build and the tests start.

ipykernel 7 logs, at every kernel start over TCP without CurveZMQ keys,
"Kernel is running over TCP without encryption ... susceptible to eavesdropping". The cause
is on the manager's side: jupyter_client 8.10's `KernelManager.transport_encryption` defaults
to "disabled", so the managers that nbclient, jupyter-cache (the book build) and nbval
create never provision keys, although the kernelspec declares `supported_encryption: curve`.
None of those tools passes a setting through, so this module changes the trait's default to
"auto" (keys are provisioned when the kernelspec supports them, as ipykernel's does); the
kernels then run encrypted and the warning is not printed because there is nothing to warn
about. (Upstream: jupyter_client added `transport_encryption` with the default "disabled";
tests/static/test_config.py fails if the pinned version changes that default to "auto", and then
this file can go.)

Imported by the root conftest.py (nbval's kernels) and tools/execute.py. (The site build
executes no notebook, see _config.yml, so Sphinx starts no kernel.)
"""
from __future__ import annotations

from jupyter_client.manager import KernelManager


def encrypt_kernel_transport() -> None:
    """Make every KernelManager created from now on provision CurveZMQ keys."""
    KernelManager.class_traits()["transport_encryption"].default_value = "auto"


encrypt_kernel_transport()

