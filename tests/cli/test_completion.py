"""`physml completion bash` prints a script that bash sources and that completes sub-commands and
their own sub-commands from the parser."""

import subprocess

from physml.cli import main


def test_bash_completion_completes_commands(tmp_path, capsys):
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "physml.bash"
    script.write_text(capsys.readouterr().out)
    probe = f"""source {script}
COMP_WORDS=(physml s); COMP_CWORD=1; _shtab_physml; echo "${{COMPREPLY[@]}}"
COMP_WORDS=(physml simulate l); COMP_CWORD=2; _shtab_physml; echo "${{COMPREPLY[@]}}"
"""
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=60).stdout.splitlines()
    assert set(out[0].split()) == {"simulate", "sweep"}
    assert out[1].split() == ["lensing"]
