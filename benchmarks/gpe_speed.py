"""The point of the gpe task: a network's forward pass against the solver it replaces.

Times, on this machine, the imaginary-time split-step solver (the one `physml simulate gpe` runs, same
tolerances) per ground state, alone and in a batch of 256, and the default config's ResNet per state
at batch 1 and 256 (CPU, float32, no grad); prints the speed-ups. With ``--model DIR|runs:/ID/model``
(a trained gpe model) it also starts the solver from the network's states and counts the steps saved.
Run: `python -m benchmarks.gpe_speed [--dim 1|2] [--model URI]`.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from benchmarks.common import best_of
from physml.platform.configs import resolve
from physml.tasks.gpe.potentials import PotentialFamily, draw
from physml.tasks.gpe.solver import ground_states
from physml.tasks.gpe.task import GroundStates, grid_of, inputs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=1)
    ap.add_argument("--model", default="")
    a = ap.parse_args()
    torch.set_num_threads(1)
    cfg = resolve("gpe", "2d" if a.dim == 2 else "default", [])
    d, grid = cfg.data, grid_of(cfg.data)
    drawn = draw(np.random.default_rng(7), PotentialFamily(g=(0.0, d.g_max)), grid, 256)
    V, g = drawn["V"], drawn["g"]
    one = best_of(lambda: ground_states(V[:1], g[:1], grid), repeat=5)
    batch = best_of(lambda: ground_states(V, g, grid), repeat=1) / len(V)
    model = GroundStates().model(cfg).eval()
    if a.model:
        from physml.platform.artifacts import load_model

        _, _, state = load_model(a.model)
        model.load_state_dict(state)
    x = torch.from_numpy(inputs(V, g, d))
    with torch.no_grad():
        net1 = best_of(lambda: model(x[:1]), repeat=20)
        net256 = best_of(lambda: model(x), repeat=5) / len(V)
    print(f"gpe {a.dim}D, {grid.n} points per side, one core (torch threads 1):")
    print(f"  solver, one state        {one * 1e3:9.3f} ms")
    print(f"  solver, per state of 256 {batch * 1e3:9.3f} ms")
    print(f"  network, batch of 1      {net1 * 1e3:9.3f} ms  (speed-up {one / net1:6.1f}x against one solve)")
    print(f"  network, per state of 256 {net256 * 1e3:8.3f} ms  (speed-up {batch / net256:6.1f}x against batched)")
    if a.model:
        with torch.no_grad():
            start = model(x).numpy().astype(np.float64)
        _, cold = ground_states(V, g, grid)
        _, warm = ground_states(V, g, grid, psi=start)
        steps = (cold["steps"].mean(), warm["steps"].mean())
        print(f"  solver steps from its own start {steps[0]:.0f}, from the network's {steps[1]:.0f}")


if __name__ == "__main__":
    main()
