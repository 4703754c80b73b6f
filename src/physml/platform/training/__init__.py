"""The one training loop, its optimizers, and the runners that execute it (Ray Train, in process)."""
