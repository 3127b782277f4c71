"""Suite-wide settings: one torch thread.

On a busy 2-core machine two OpenMP threads spin against each other and other processes: a ResNet-18 step
measured 18x slower with 2 threads than with 1 here. The tests' models are tiny, so one thread loses
nothing and makes timings and float summation order the same on every machine.
"""

from collections.abc import Iterator

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Back to one thread after every test: code run in-process (``reid process`` sets its workers' thread
    count, e.g.) must not change the float summation order of the tests after it."""
    yield
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
