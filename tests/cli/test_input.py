"""Bad input: one line naming the value and what is allowed, exit 2, nothing written, no Ray start.

These tests live in tests/cli so that pytest runs them before the Ray-backed tests start the shared
Ray instance: "Ray is not initialized afterwards" then proves validation happens before Ray.
"""

import sys

import pytest

from physml.cli import main

BASE = ["simulate", "ising", "--temperatures", "2.0,2.5", "--sweeps", "100", "--thermalize", "10"]

CASES = [
    (["--L", "1"], "--L 1"),
    (["--L", "7", "--algorithm", "checkerboard"], "--L 7"),
    (["--L", "9", "--algorithm", "msc"], "needs an even L"),
    (["--temperatures", "0,2.0"], "T = 0.0"),
    (["--temperatures=-1.0,2.0"], "T = -1.0"),
    (["--temperatures", "2.0:3.0:0"], "empty range"),
    (["--temperatures", "hot"], "'hot'"),
    (["--algorithm", "gibbs"], "'gibbs' is unknown; choose one of metropolis"),
    (["--algorithm", "wolff", "--field", "0.5"], "--field 0.5"),
    (["--every", "500"], "--every 500 is larger than --sweeps 100"),
    (["--replicas", "0"], "--replicas 0"),
]


@pytest.mark.parametrize("extra,needle", CASES)
def test_bad_simulate_input(extra, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    argv = BASE + extra + ["--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physml: error:") and "\n" not in err and needle in err
    assert not out.exists() and not (tmp_path / "mlflow.db").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


def test_xy_refuses_ising_only_options(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = [
        "simulate",
        "xy",
        "--temperatures",
        "0.5,1.0",
        "--sweeps",
        "100",
        "--algorithm",
        "wolff",
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 2
    assert "the xy model runs metropolis" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unwritable_output(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocker").write_text("a file, not a directory")
    assert main(BASE + ["--out", str(tmp_path / "blocker" / "ds")]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot" in err and "blocker" in err and "\n" not in err
    assert not (tmp_path / "mlflow.db").exists()


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as e:
        main(["simulate", "ising", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for opt in (
        "--L",
        "--temperatures",
        "--replicas",
        "--sweeps",
        "--thermalize",
        "--every",
        "--algorithm",
        "--field",
        "--seed",
        "--out",
        "--actors",
        "--address",
    ):
        assert opt in text
    with pytest.raises(SystemExit):
        main(["simulate", "prostate", "--help"])
    text = capsys.readouterr().out
    for opt in ("--cases", "--sites", "--size", "--spacing", "--seed", "--raw", "--out", "--address"):
        assert opt in text


PROSTATE_CASES = [
    (["--cases", "0"], "--cases 0: must be >= 1"),
    (["--sites", "AX"], "--sites 'AX': use letters of ABCD"),
    (["--size", "4"], "--size 4: must be >= 8"),
    (["--spacing", "0"], "--spacing 0.0: must be in 0.1..10 mm"),
]


@pytest.mark.parametrize("extra,needle", PROSTATE_CASES)
def test_bad_prostate_simulate_input(extra, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "prostate", "--out", str(tmp_path / "out")] + extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physml: error:") and "\n" not in err and needle in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "mlflow.db").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


def _case_dir(tmp_path, problem: str):
    """A PROMISE12-layout directory with one ``problem``: none, empty, nolabel, shape, truncated."""
    import numpy as np

    from physml.tasks.prostate.volumes import write_mhd

    d = tmp_path / "cases"
    d.mkdir()
    if problem == "empty":
        return d
    img = np.ones((4, 8, 8), np.float32)
    write_mhd(d / "Case00.mhd", img, (1.0, 1.0, 3.0))
    if problem != "nolabel":
        write_mhd(
            d / "Case00_segmentation.mhd", np.zeros((4, 8, 7 if problem == "shape" else 8), np.uint8), (1.0, 1.0, 3.0)
        )
    if problem == "truncated":
        (d / "Case00.raw").write_bytes(b"\0" * 10)
    return d


@pytest.mark.parametrize(
    "problem,needle",
    [
        ("empty", "no cases"),
        ("nolabel", "no segmentation file Case00_segmentation.mhd"),
        ("shape", "label shape (7, 8, 4) differs from image shape (8, 8, 4)"),
        ("truncated", "truncated (10 bytes"),
    ],
)
def test_bad_prostate_directory(problem, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    src = _case_dir(tmp_path, problem)
    assert main(["convert", "prostate", str(src), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physml: error:") and "\n" not in err and needle in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "mlflow.db").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


SWEEP_CASES = [
    ([], '[sweep.space]\n"train.lr" = {normal = [0, 1]}\n', "unknown distribution 'normal'"),
    ([], '[sweep.space]\n"model.kind" = {choice = ["cnn", "mlp"]}\n', "model.kind = 'mlp'"),
    ([], '[sweep.space]\n"train.lr" = {loguniform = [0.1, 0.01]}\n', "low must be below high"),
    ([], '[sweep.space]\n"train.workers" = {choice = [1, 2]}\n', "resources and data are fixed"),
    ([], "[sweep]\nsamples = 4\n[sweep.space]\n", "the sweep space is empty"),
    (["--metric", "acc"], "", "--metric 'acc'"),
    (["--metric", "val/acc", "val/loss", "--mode", "max"], "", "give min or max for each metric"),
    (["--scheduler", "hyperband"], "", "--scheduler: invalid choice: 'hyperband'"),
    (["--set", "train.lr=-1"], "", "train.lr = -1"),
]


@pytest.mark.parametrize("extra,text,needle", SWEEP_CASES)
def test_bad_sweep_input_is_refused_before_ray(extra, text, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "sweep.toml"
    f.write_text('base = "smoke"\n' + text)
    try:
        code = main(["sweep", "phases-supervised", "-c", str(f), "--no-progress"] + extra)
    except SystemExit as e:  # argparse refuses a choice inside the parser
        code = e.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physml: error:") and "\n" not in err and needle in err
    assert not (tmp_path / "physml-data").exists() and not (tmp_path / "mlflow.db").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


def test_sweep_status_and_resume_need_a_sweep(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "--status", str(tmp_path)]) == 2
    assert "not a physml sweep directory" in capsys.readouterr().err
    assert main(["sweep", "phases-supervised", "--resume"]) == 2
    assert "no sweep of phases-supervised" in capsys.readouterr().err
    assert main(["sweep"]) == 2
    assert "give a TASK" in capsys.readouterr().err


GEN_CASES = [
    (["--L", "10"], "--L 10: the actor generates sizes divisible by 4"),
    (["--temperatures", "-1"], "need temperatures > 0"),
    (["--temperatures", "warm"], "'warm'"),
    (["--n", "0"], "--n 0: must be >= 1"),
]


@pytest.mark.parametrize("extra,needle", GEN_CASES)
def test_bad_generate_input_writes_nothing(extra, needle, tmp_path, monkeypatch, capsys):
    from physml.platform.artifacts import write_model
    from physml.tasks.ising_generation.task import GenerationConfig, IsingGeneration

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = GenerationConfig()
    model_dir = write_model(IsingGeneration().model(cfg), cfg, "ising-generation", tmp_path / "model")
    args = {"--L": "8", "--temperatures": "2.0", "--n": "10"}
    args.update(dict(zip(extra[::2], extra[1::2])))
    argv = ["generate", "ising", "--model", str(model_dir), "--out", str(tmp_path / "out")]
    argv += [x for kv in args.items() for x in kv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not (tmp_path / "out").exists() and not (tmp_path / "mlflow.db").exists()


def test_generate_refuses_a_model_that_does_not_generate(tmp_path, monkeypatch, capsys):
    from physml.platform.artifacts import write_model
    from physml.tasks.phases.supervised import SupervisedPhases

    monkeypatch.chdir(tmp_path)
    cfg = SupervisedPhases.Config()
    d = write_model(SupervisedPhases().model(cfg), cfg, "phases-supervised", tmp_path / "m")
    assert main(["generate", "ising", "--model", str(d), "--L", "8", "--temperatures", "2", "--out", "o"]) == 2
    assert "does not generate 'ising' data (tasks that do: ising-generation)" in capsys.readouterr().err
    assert (
        main(["generate", "ising", "--model", str(tmp_path / "none"), "--L", "8", "--temperatures", "2", "--out", "o"])
        == 2
    )


@pytest.mark.parametrize(
    "problem,needle",
    [
        ("unknown", "id 'obj9' has no FITS file"),
        ("badlabel", "label 'star'; use 0 (star) or 1 (galaxy)"),
        ("empty", "no FITS files"),
    ],
)
def test_bad_stargalaxy_directory(problem, needle, tmp_path, monkeypatch, capsys):
    import numpy as np
    from astropy.io import fits

    d = tmp_path / "cut"
    d.mkdir()
    if problem != "empty":
        fits.PrimaryHDU(np.zeros((8, 8), np.float32)).writeto(d / "obj1.fits")
    labels = tmp_path / "labels.csv"
    labels.write_text({"unknown": "id,label\nobj9,1\n", "badlabel": "id,label\nobj1,star\n"}.get(problem, "id,label\n"))
    monkeypatch.chdir(tmp_path)
    assert main(["convert", "stargalaxy", str(d), "--labels", str(labels), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physml: error:") and "\n" not in err and needle in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "mlflow.db").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


@pytest.mark.parametrize(
    "extra,needle",
    [(["--n", "0"], "--n 0: must be >= 1"), (["--star-fraction", "1.5"], "--star-fraction 1.5: must be in 0..1")],
)
def test_bad_stargalaxy_simulate_input(extra, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "stargalaxy", "--out", str(tmp_path / "out")] + extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physml: error:") and needle in err and not (tmp_path / "out").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--n", "0"], "--n 0: must be >= 1"),
        (["--fov", "0"], "--fov 0.0: must be > 0"),
        (["--size", "8"], "--size 8: must be 16..2048 pixels"),
        (["--subhalo-mass", "1e10", "1e9"], "--subhalo-mass 1e+10 1e+09: need 0 < low < high (Msun)"),
    ],
)
def test_bad_lensing_simulate_input(extra, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "lensing", "--out", str(tmp_path / "out")] + extra) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and not (tmp_path / "out").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


@pytest.mark.parametrize(
    "sets,needle",
    [
        (["model.kind=gan"], "model.kind = 'gan': choose one of dcae, vae, aae, rbm, resnet"),
        (
            ["data.crop=0", "data.resize=0"],
            "image size 150: the encoder halves it 4 times (model.depth), so it must be a "
            "multiple of 16, e.g. 128, 144, 160, 176; set data.resize",
        ),
    ],
)
def test_bad_lensing_run_config(sets, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["run", "lensing", "-c", "default"] + [x for s in sets for x in ("--set", s)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--pt", "600", "500"], "--pt 600.0 500.0: the pT window is empty"),
        (["--processes", "qcd", "higgs"], "--processes higgs: choose from qcd, top"),
        (["--pixels", "0"], "--pixels 0: the image needs >= 1 pixel per side"),
    ],
)
def test_bad_jets_simulate_input(extra, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "jets", "--out", str(tmp_path / "out")] + extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physml: error:") and needle in err and "\n" not in err and not (tmp_path / "out").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


@pytest.mark.parametrize(
    "task,sets,needle",
    [
        ("stargalaxy", ['model.condition="seeing"'], "model.condition = 'seeing': choose flux or none"),
        (
            "jets",
            ["data.pixels=38"],
            "data.pixels = 38: the networks take sides that are multiples of 2^model.depth = 4",
        ),
        ("jets-anomaly", ["data.pt=[700, 600]"], "error: data.pt = [700.0, 600.0]: the pT window is empty"),
    ],
)
def test_bad_jets_run_config(task, sets, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", task, "-c", "default"] + [x for s in sets for x in ("--set", s)]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


@pytest.mark.parametrize("value", ["lots", "50"])
def test_bad_object_store_size(value, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PHYSML_OBJECT_STORE_MB", value)
    assert main(["run", "jets", "-c", "smoke"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"physml: error: PHYSML_OBJECT_STORE_MB = {value!r}: expected a number of MiB >= 100"
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--size", "20"], "--size 20: must be a multiple of 8, >= 16 pixels"),
        (["--objects", "0.5"], "--objects 0.5: must be >= 1"),
    ],
)
def test_bad_fields_simulate_input(extra, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "stargalaxy-fields", "--out", str(tmp_path / "out")] + extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physml: error:") and needle in err and not (tmp_path / "out").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


CLIMATE_CASES = [
    (["simulate", "climate", "--grid", "10x20"], "--grid '10x20': need at least 16 latitudes"),
    (["simulate", "climate", "--grid", "big"], "expected NLATxNLON"),
    (["simulate", "climate", "--hours", "0"], "--hours 0.0: must be in (0, 24]"),
    (["detect", "climate", "--data", "nothere"], "nothere: no such file, directory or store"),
]


@pytest.mark.parametrize("argv,needle", CLIMATE_CASES)
def test_bad_climate_input(argv, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out.zarr"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physml: error:") and "\n" not in err and needle in err
    assert not out.exists() and not (tmp_path / "mlflow.db").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()
