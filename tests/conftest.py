"""Suite-wide settings: one torch thread.

On a busy 2-core machine two OpenMP threads spin against each other and other processes: a ResNet-18 step
measured 18x slower with 2 threads than with 1 here. The tests' models are tiny, so one thread loses
nothing and makes timings and float summation order the same on every machine.
"""

import torch

torch.set_num_threads(1)
