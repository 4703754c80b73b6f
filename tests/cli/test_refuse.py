"""Refuse before starting: each input a user can get wrong gives one line naming the option and what
is allowed, exit status 2, nothing written (no dataset, no ./mlflow.db) and no Ray started."""

import socket
import sys

import pytest

from physml.cli import main

ISING = ["simulate", "ising", "--temperatures", "2.0,2.5", "--sweeps", "100", "--thermalize", "10"]


def _refused(code: int, capsys, tmp_path, needle: str) -> None:
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("physml: error:") and "\n" not in err and needle in err, err
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "out").exists()
    assert not (tmp_path / "physml-data").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


CASES = [
    (ISING + ["--address", "garbage"], "--address: 'garbage': expected HOST:PORT"),
    (ISING + ["--address", "head:99999"], "--address: 'head:99999'"),
    (ISING + ["--sweeps", "99999999999999999999"], "outside the 64-bit integer range"),
    (ISING + ["--seed", str(2**64)], "--seed: 18446744073709551616: outside the 64-bit integer range"),
    (ISING + ["--replicas", "four"], "--replicas: 'four' is not an integer"),
    (["simulate", "ising", "--temperatures", "inf", "--sweeps", "100"], "T = inf is not a finite number"),
    (["simulate", "lensing", "--size", "100000"], "--size 100000: must be 16..2048 pixels"),
    (
        [
            "simulate",
            "ising",
            "--L",
            "4096",
            "--temperatures",
            "0.5:5:1000",
            "--replicas",
            "100000",
            "--sweeps",
            "1000000",
            "--every",
            "1",
        ],
        "the dataset needs about 1.68e+06 PB",
    ),
    (["simulate", "lensing", "--n", "20000000"], "make it smaller or pass --force"),
    (["simulate", "lensing", "--lens-model", "C"], "invalid choice: 'C'"),
    (["simulate", "jets", "--ecm", "-1"], "--ecm -1.0: sqrt(s) must be in (0, 1e6) GeV"),
    (["simulate", "stargalaxy", "--seeing", "0"], "--seeing 0.0: the PSF FWHM must be in (0, 10] arcsec"),
    (["ui", "--port", "99999"], "--port: 99999: a TCP port is 1..65535"),
    (["evaluate", "lensing", "--model", "/nonexistent/model", "--data", "x"], "no such model directory"),
    (["sweep", "lensing", "-c", "smoke", "--metric", "val/nonexistent"], "--metric val/nonexistent: lensing does not"),
    (["run", "lensing", "--resume", "nosuchrun"], "--resume nosuchrun: no MLflow store here"),
    (["evaluate", "lensing", "--model", "runs:/abc/model", "--data", "x"], "--model runs:/abc/model: no MLflow store"),
    (["run", "example-oscillator", "-c", "smoke", "--set", 'data.uri="/nonexistent/data"'], "/nonexistent/data"),
]


@pytest.mark.parametrize("argv,needle", CASES)
def test_refused_before_anything(argv, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    argv = [a if a != "OUT" else str(tmp_path / "out") for a in argv]
    if argv[0] == "simulate":
        argv += ["--out", str(tmp_path / "out")]
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own refusals exit from inside the parser
        code = e.code
    _refused(code, capsys, tmp_path, needle)


def test_config_files_that_are_not_toml_text(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    assert main(["run", "lensing", "-c", str(tmp_path / "adir")]) == 2
    assert "is a directory; give a .toml file" in capsys.readouterr().err
    (tmp_path / "bin.toml").write_bytes(bytes(range(256)))
    assert main(["run", "lensing", "-c", str(tmp_path / "bin.toml")]) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err
    assert not (tmp_path / "mlflow.db").exists()


def test_a_bad_ray_address_in_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAY_ADDRESS", "not an address")
    _refused(main(ISING + ["--out", str(tmp_path / "out")]), capsys, tmp_path, "RAY_ADDRESS = 'not an address'")


def test_ui_refuses_a_port_in_use(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        _refused(main(["ui", "--port", str(port)]), capsys, tmp_path, f"--port {port}: cannot serve there")
