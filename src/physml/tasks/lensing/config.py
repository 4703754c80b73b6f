"""The lensing task's config: data, model, training (no torch: `physml config` and input errors answer at once)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig, at_least_one

from .lenses import SCORES

KINDS = ("dcae", "vae", "aae", "rbm", "resnet")


def check_size(size: int, depth: int) -> None:
    """The encoders halve the image ``depth`` times: S must be a multiple of 2^depth."""
    step = 2**depth
    if size < step or size % step:
        ok = ", ".join(str(step * k) for k in range(max(1, size // step - 1), size // step + 3) if k > 0)
        raise ValueError(
            f"image size {size}: the encoder halves it {depth} times (model.depth), so it must be a "
            f"multiple of {step}, e.g. {ok}; set data.resize"
        )


@dataclass(frozen=True)
class LensingData:
    uri: str = ""  # dataset URI (physml simulate lensing); "" = simulate
    config: str = "A"  # simulated: the source's Model A or B
    n: int = 2500  # simulated images per substructure class
    n_none: int = 0  # simulated images without substructure (0 = n)
    size: int = 150  # simulated pixels per side
    subhalo_mass: tuple[float, float] = (1e8, 1e10)  # simulated CDM subhalo masses, M_sun (dN/dm ~ m^-1.9)
    vortex_fraction: tuple[float, float] = (0.01, 0.03)  # simulated vortex mass / lens mass inside theta_E
    seed: int = 0  # root seed of the simulated images
    crop: int = 0  # centre crop (pixels) before resizing; 0 = the whole image
    resize: int = 64  # the models' input size (area-averaged); 0 = the (cropped) stored size
    holdout: int = 10  # crc32(id) % holdout: 0 = validation, 1 = test, else training
    exposure: float = 25.0  # the images' counts per unit flux (the simulator's): chi^2 noise model
    augment: bool = False  # training batches under random symmetries of the square (rotations, flips)

    def __post_init__(self):
        if self.config not in ("A", "B"):
            raise ValueError(f"data.config = {self.config!r}: choose A or B")
        if self.holdout < 3:
            raise ValueError(f"data.holdout = {self.holdout}: must be >= 3")
        if self.resize < 0 or self.crop < 0:
            raise ValueError(f"data.resize = {self.resize}, data.crop = {self.crop}: must be >= 0 (0 = off)")
        if self.crop > self.size:
            raise ValueError(f"data.crop = {self.crop}: larger than the images (data.size = {self.size})")

    @property
    def input_size(self) -> int:
        """The models' image side: resize, else crop, else the stored size."""
        return self.resize or self.crop or self.size


@dataclass(frozen=True)
class LensingModel:
    kind: str = "aae"  # dcae | vae | aae | rbm | resnet (supervised, all three classes)
    channels: int = 16  # first convolution width (encoders), ResNet base width (64 in the paper)
    depth: int = 4  # stride-2 levels of the encoders: sizes must be multiples of 2^depth
    latent: int = 64  # code size of DCAE / VAE / AAE
    beta: float = 1.0  # VAE: weight of the KL term
    adversarial: float = 1.0  # AAE: weight of the discriminator's and the encoder's adversarial losses
    hidden: int = 512  # RBM hidden units; AAE discriminator width is 128
    rbm_sigma: float = 0.1  # RBM visible-unit sigma (images have peak 1)
    cd_steps: int = 1  # RBM: contrastive divergence CD-k
    score: str = "mse"  # anomaly score: mse (as the source) | chi2 (weighted by the noise model)
    #                                  | local (chi2 smoothed by the PSF, mean of its largest 1%)
    stem_pool: bool = True  # ResNet: the stem's 3x3/2 max-pool (false: 4x the compute, finer stage 1)
    tta: bool = False  # evaluation: average the class probabilities (ResNet) or the reconstruction
    #                                  errors over the 8 symmetries of the square (test-time augmentation)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"model.kind = {self.kind!r}: choose one of {', '.join(KINDS)}")
        if self.score not in SCORES:
            raise ValueError(f"model.score = {self.score!r}: choose one of {', '.join(SCORES)}")
        at_least_one("model", self, ("channels", "depth", "latent", "hidden", "cd_steps"))


@dataclass(frozen=True)
class LensingConfig:
    data: LensingData = field(default_factory=LensingData)
    model: LensingModel = field(default_factory=LensingModel)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        if self.model.kind != "resnet":
            check_size(self.data.input_size, self.model.depth)
