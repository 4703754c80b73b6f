"""`physml tasks`: every registered task, one line each, with its shipped configs."""

from physml.cli import main
from physml.tasks import TASKS, load


def test_tasks_lists_every_task_on_one_line(capsys):
    assert main(["tasks"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == list(TASKS)
    assert all("[configs: default, smoke" in ln for ln in lines)  # every task ships both
    text = dict(ln.split(None, 1) for ln in lines)
    assert text["jets"] != text["jets-anomaly"] and "autoencoder" in text["jets-anomaly"]


def test_every_shipped_config_of_every_task_is_valid():
    """Each config a task ships (``-c NAME``) parses into the task's typed config: no unknown key, no
    wrong type, no value its checks refuse."""
    from physml.platform.configs import resolve
    from physml.tasks import shipped_configs

    for name in TASKS:
        for config in shipped_configs(name):
            cfg = resolve(name, config, [])
            task = load(TASKS[name])()
            assert isinstance(cfg, task.Config), (name, config)
