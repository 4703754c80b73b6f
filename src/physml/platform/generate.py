"""`physml generate KIND --model ...`: a trained generator writes a dataset in the shard schema of
the simulator of KIND, so the simulator's analysis reads it unchanged.

The task, a :class:`physml.tasks.sources.Generator`, says what it generates (``generates``), which
shards a request makes (``generation_plan``) and fills each (``generate_shard``); this module loads
the model, writes shards atomically (a re-run of the same command resumes, skipping complete shards)
and logs an MLflow run.
"""

from __future__ import annotations

from dataclasses import dataclass

from tqdm import tqdm

from physml import __version__
from physml.config import ConfigError, from_dict
from physml.platform import tracking
from physml.platform.artifacts import load_model
from physml.platform.data.shards import DatasetWriter, read_table
from physml.tasks import TASKS, load
from physml.tasks.sources import Generator


@dataclass
class GenerateResult:
    uri: str
    run_id: str
    shards: int
    skipped: int
    text: str


def load_generator(model_uri: str, kind: str):
    """(task name, task, config, model in eval mode) of a saved model that generates ``kind`` data."""
    task_name, cfg_dict, state = load_model(model_uri)
    task = load(TASKS[task_name])()
    if not isinstance(task, Generator) or task.generates != kind:
        able = [n for n, p in TASKS.items() if issubclass(cls := load(p), Generator) and cls.generates == kind]
        raise ConfigError(
            f"--model {model_uri} is a {task_name} model, which does not generate {kind!r} data"
            f" (tasks that do: {', '.join(able) or 'none'})"
        )
    cfg = from_dict(task.Config, cfg_dict)
    model = task.model(cfg)
    model.load_state_dict(state)
    return task_name, task, cfg, model.eval()


def generate(
    kind: str, model_uri: str, request: dict, out: str, seed: int, progress: bool = True, command: str = ""
) -> GenerateResult:
    """Write the shards of ``request`` (task-specific, e.g. sizes, temperatures, n) to ``out``."""
    task_name, task, cfg, model = load_generator(model_uri, kind)
    try:
        params, parts = task.generation_plan(cfg, request)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    params = {**params, "generated_from": model_uri}
    writer = DatasetWriter(out, kind, params, seed, f"physml {__version__}: {command}")
    done = {s["path"] for s in writer.shards}
    tags = {"data.uri": str(out), "model.uri": model_uri, "physml.kind": "generate", "command": command}
    with tracking.run(task_name, f"generate-{kind}", {**params, "seed": seed, "out": str(out)}, tags) as active:
        todo = [p for p in parts if p["path"] not in done]
        for part in tqdm(todo, desc=f"generate {kind}", unit="shard", disable=not progress):
            table = task.generate_shard(model, cfg, part, seed)
            meta = {k: v for k, v in part.items() if k != "path"}
            writer.commit([writer.put_shard(part["path"], table, **meta)])
        writer.commit([], complete=True)
        text = task.describe_generated(read_table(out, columns=task.generated_columns))
        tracking.log_text(text, "generated/summary.txt")
        return GenerateResult(str(out), active.info.run_id, len(todo), len(parts) - len(todo), text)
