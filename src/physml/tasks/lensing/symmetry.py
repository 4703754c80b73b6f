"""The 8 symmetries of the square (the dihedral group D4) acting on images: training augmentation
and test-time averaging. The simulated lens population is isotropic, so they keep an image's class."""

from __future__ import annotations

import torch


def square_symmetry(x: torch.Tensor, g: int) -> torch.Tensor:
    """x float[..., H, W] under symmetry g of the square (0-7): a rotation by g % 4 quarter turns,
    then for g >= 4 a reflection."""
    y = torch.rot90(x, g % 4, dims=(-2, -1))
    return y.flip(-1) if g >= 4 else y


def dihedral(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image of x float[B, C, H, W] under a random one of the 8 symmetries of the square (4
    rotations by 90 degrees, each with or without a reflection). The simulated population is
    isotropic (lens, shear, source, subhalo and vortex angles uniform; a round PSF), so the class of
    an image does not change."""
    pick = torch.randint(0, 8, (x.shape[0],), generator=generator).to(x.device)
    out = x.clone()
    for g in range(8):
        idx = (pick == g).nonzero().flatten()
        if len(idx):
            out[idx] = square_symmetry(x[idx], g)
    return out
