"""`physml simulate|convert KIND` options are built from each source's parameter dataclass: the defaults
of the command line are the dataclass's, every option reaches its field, errors name the option, and a
new source needs no line in cli.py."""

from __future__ import annotations

import sys
from dataclasses import asdict, fields

import pytest

from physml.cli import build_parser, main
from physml.cli_options import leaves, params_from
from physml.tasks import SOURCES, load
from physml.tasks.options import from_plain

OSCILLATOR = "physml.tasks.example.source:OscillatorSource"


def _parse(argv: list[str]):
    return build_parser(argv[1]).parse_args(argv)


@pytest.mark.parametrize("kind", list(SOURCES))
def test_defaults_of_the_command_line_are_the_dataclass_defaults(kind):
    cls = load(SOURCES[kind])
    ns = _parse(["simulate", kind, "--out", "memory://x"])
    assert params_from(cls.params_type, ns, "simulate") == cls.params_type()


def _typed(leaf) -> list[str]:
    """The command-line words of a value different from the leaf's default (same type)."""
    value = leaf.default
    if leaf.opt.shown_default:  # a parsed text (temperatures): a different grid
        return ["2.0,2.5"]
    if leaf.opt.choices:
        return [next(c for c in leaf.opt.choices if c != value)]
    items = list(value) if isinstance(value, tuple) else [value]
    if isinstance(items[0], str):
        return items[:1] if len(items) > 1 else ["AB"]  # jets: one process; prostate: two sites
    return [str((v * 2 or 0.5) if isinstance(v, float) else v + 2) for v in items]


@pytest.mark.parametrize("kind", list(SOURCES))
def test_every_option_reaches_its_field(kind):
    """Each option alone, given a value other than its default, changes exactly its field(s)."""
    cls = load(SOURCES[kind])
    base = asdict(cls.params_type())
    for leaf in leaves(cls.params_type):
        if "simulate" not in leaf.opt.modes or leaf.opt.positional:
            continue
        words = _typed(leaf)
        ns = _parse(["simulate", kind, leaf.flag, *words, "--out", "memory://x"])
        try:
            got = asdict(params_from(cls.params_type, ns, "simulate"))
        except Exception as err:  # a combination the dataclass refuses is still the right field
            assert leaf.flag in str(err), (leaf.flag, err)
            continue
        changed = _diff(base, got)
        expected = {".".join(leaf.path)} | ({".".join(leaf.path[:-1] + (leaf.opt.pair,))} if leaf.opt.pair else set())
        assert changed == expected, (leaf.flag, words, changed)


def _diff(a: dict, b: dict, prefix: str = "") -> set[str]:
    out = set()
    for k in a:
        if isinstance(a[k], dict):
            out |= _diff(a[k], b[k], f"{prefix}{k}.")
        elif a[k] != b[k]:
            out.add(prefix + k)
    return out


@pytest.mark.parametrize("kind", list(SOURCES))
def test_plain_values_round_trip(kind):
    """from_dict (plain values: lists, nested dicts) gives back the same parameters."""
    cls = load(SOURCES[kind])
    p = cls.params_type()
    assert from_plain(cls.params_type, asdict(p)) == p
    assert cls.from_dict(asdict(p)).manifest_params() == cls(p).manifest_params()


def test_unknown_plain_key_is_named():
    with pytest.raises(ValueError, match="nsamples = 3: not a parameter"):
        from_plain(load(OSCILLATOR).params_type, {"nsamples": 3})


def test_every_task_simulation_is_an_instance_of_its_source_params():
    """Task.simulation() returns the source's dataclass, so the defaults it does not set are the source's."""
    from physml.platform.configs import resolve
    from physml.tasks import TASKS, shipped_configs

    for name in TASKS:
        cfg = resolve(name, shipped_configs(name)[0], [])
        task = load(TASKS[name])()
        sim = task.simulation(cfg)
        assert isinstance(sim.params, sim.source().params_type), name


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["simulate", "lensing", "--subhalo-mass", "1e10", "1e8"], "--subhalo-mass"),
        (["simulate", "lensing", "--lens-model", "A", "--size", "8"], "--size 8: must be 16..2048 pixels"),
        (["simulate", "jets", "--resolution", "-1", "0.03"], "--resolution"),
        (["simulate", "stargalaxy-fields", "--size", "20"], "--size 20: must be a multiple of 8"),
        (["simulate", "prostate", "--sites", "XYZ"], "--sites 'XYZ': use letters of ABCD"),
        (["simulate", "stargalaxy", "--star-fraction", "1.5"], "--star-fraction 1.5: must be in 0..1"),
        (["simulate", "jets", "--eta-max", "nan"], "argument --eta-max: nan: not a finite number"),
        (["simulate", "lensing", "--fov", "inf"], "argument --fov: inf: not a finite number"),
    ],
)
def test_errors_name_the_option(argv, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv + ["--out", str(tmp_path / "out")])
    except SystemExit as e:  # argparse's own refusals (a type) exit from parse_args
        code = e.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("physml: error:") and needle in err and "\n" not in err, err
    assert not (tmp_path / "out").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


def test_a_new_source_needs_no_line_in_the_cli(monkeypatch, tmp_path, capsys):
    """Registering the developer guide's example source exposes it with its options, help and checks."""
    monkeypatch.setitem(SOURCES, "oscillator", OSCILLATOR)
    ns = _parse(["simulate", "oscillator", "--n", "10", "--gamma", "0.1", "0.2", "--out", "memory://o"])
    p = params_from(load(OSCILLATOR).params_type, ns, "simulate")
    assert p.n == 10 and p.gamma == (0.1, 0.2) and p.omega0 == (1.0, 3.0)
    with pytest.raises(SystemExit):
        main(["simulate", "oscillator", "--help"])
    out = capsys.readouterr().out
    assert "--omega0 LOW HIGH" in out and "(default 1 3)" in out and "example: physml simulate oscillator" in out
    assert main(["simulate", "oscillator", "--n", "0", "--out", str(tmp_path / "o")]) == 2
    assert "physml: error: --n 0, --steps 64: need n >= 1" in capsys.readouterr().err
    names = {f.name for f in fields(load(OSCILLATOR).params_type)}
    assert {leaf.path[-1] for leaf in leaves(load(OSCILLATOR).params_type)} == names


def test_only_the_chosen_source_is_imported():
    """`physml --help` and other commands build the simulate list from summaries read from source."""
    import subprocess

    code = (
        "import sys; from physml.cli import build_parser; build_parser(''); "
        "print(sorted(m for m in sys.modules if m.startswith('physml.tasks.') and m.count('.') > 2))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


def test_config_class_is_the_tasks_and_needs_no_torch():
    """`physml config` and input errors resolve a config from the task's torch-free config module."""
    import subprocess

    from physml.tasks import TASKS, config_class

    for name in TASKS:
        assert config_class(name) is load(TASKS[name]).Config, name
    code = (
        "import sys; from physml.tasks import TASKS, config_class; [config_class(n) for n in TASKS]; "
        "print(sorted(m for m in ('torch', 'ray', 'mlflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
