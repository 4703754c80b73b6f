"""Screenshot of the MLflow UI comparing the trials of the latest sweep in a tracking store.

Usage: python .ci/ui_screenshot.py [STORE_DIR] [OUT.png] [parent|compare]. Starts `physml ui` on a
free loopback port in STORE_DIR (where mlflow.db is), opens the parent run's nested trials in
MLflow's run comparison with headless Chromium, and writes OUT.png. Chromium comes from Debian's
packages (`make screenshot` installs it); nothing here runs in `make test`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path


def _latest_sweep(store: Path) -> tuple[str, str, list[str]]:
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{store / 'mlflow.db'}")
    exps = client.search_experiments()
    runs = client.search_runs(
        [e.experiment_id for e in exps], "tags.`physml.kind` = 'sweep'", order_by=["start_time DESC"], max_results=1
    )
    if not runs:
        sys.exit(f"no sweep in {store / 'mlflow.db'}: run `physml sweep TASK` there first")
    parent = runs[0]
    kids = client.search_runs([parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    return parent.info.experiment_id, parent.info.run_id, [k.info.run_id for k in kids]


def main() -> None:
    store = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/sweep-ui.png").resolve()
    view = sys.argv[3] if len(sys.argv) > 3 else "compare"
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium not found: `make screenshot` installs it (apt-get install chromium)")
    exp, parent, kids = _latest_sweep(store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    ui = subprocess.Popen(
        [sys.executable, "-m", "physml", "ui", "--port", str(port)],
        cwd=store,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 240
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                if ui.poll() is not None or time.time() > deadline:
                    sys.exit(f"`physml ui` did not come up in {store} (exit {ui.poll()})")
                time.sleep(0.5)
        q = urllib.parse.quote
        url = (
            f"http://127.0.0.1:{port}/#/compare-runs?runs={q(json.dumps(kids))}&experiments={q(json.dumps([exp]))}"
            if view == "compare"
            else f"http://127.0.0.1:{port}/#/experiments/{exp}/runs"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                browser,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1600,1200",
                "--virtual-time-budget=30000",
                f"--screenshot={out}",
                url,
            ],
            check=True,
            timeout=180,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(f"{out}: {view} view of sweep {parent} ({len(kids)} trials)")
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=30)


if __name__ == "__main__":
    main()
