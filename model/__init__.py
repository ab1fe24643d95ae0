"""unimt's model package: readers and writers, exact translations, tokenizers, networks, inference."""

import os

# OpenMP threads that spin while they wait make PyTorch on a busy machine (a GUI thread, playback, a second
# program) far slower than one thread: two threads read two staves in 60 s instead of 0.06 s on a loaded
# 2-core laptop. Waiting threads that sleep cost little when the machine is idle. It must be set before torch
# loads, and a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
