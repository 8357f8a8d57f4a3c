"""The systemd units start what they say: their gunicorn command lines are valid for the installed
gunicorn, no two web instances share a control socket, the Celery options exist (backups: tests/integration/test_backup_restore.py)."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "ops" / "systemd"
BIN = Path(sys.executable).parent


def exec_start(unit: str, instance: str = "") -> list[str]:
    text = (UNITS / unit).read_text().replace("\\\n", " ")
    (line,) = re.findall(r"^ExecStart=(.*)$", text, re.M)
    env = dict(re.findall(r"^Environment=(\w+)=(\S+)$", text, re.M))
    argv = shlex.split(line.replace("%i", instance).replace("/opt/diplomacy-crm/.venv/bin/", f"{BIN}/")
                       .replace("/opt/diplomacy-crm/", f"{ROOT}/"))
    return argv, {k: v.replace("%i", instance) for k, v in env.items()}


def gunicorn_config(argv: list[str], env: dict) -> dict:
    result = subprocess.run([*argv, "--print-config"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "diplomacy_crm.test_settings", **env})
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, re.M))


def test_the_web_unit_runs_without_a_control_socket_and_logs_through_our_logger():
    config = gunicorn_config(*exec_start("diplomacy-crm-web.service"))
    assert config["control_socket_disable"] == "True"
    assert config["logger_class"] == "diplomacy_crm.logging.GunicornLogger"
    assert config["bind"] == "['127.0.0.1:8000']" and config["accesslog"] == "-"


def test_two_instances_of_the_template_have_sockets_of_their_own():
    sockets = set()
    for port in ("8001", "8002"):
        config = gunicorn_config(*exec_start("diplomacy-crm-web@.service", port))
        assert config["bind"] == f"['127.0.0.1:{port}']" and config["control_socket_disable"] == "False"
        sockets.add(config["control_socket"])
    assert len(sockets) == 2 and all(s.startswith("/run/diplomacy-crm-web-") for s in sockets)


@pytest.mark.parametrize("unit, command", [("diplomacy-crm-worker.service", "worker"),
                                           ("diplomacy-crm-beat.service", "beat")])
def test_celery_units_use_options_celery_has(unit, command):
    argv, _ = exec_start(unit)
    assert argv[:3] == [f"{BIN}/celery", "-A", "diplomacy_crm"] and command in argv
    helptext = subprocess.run([str(BIN / "celery"), "-A", "diplomacy_crm", command, "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "DJANGO_SETTINGS_MODULE": "diplomacy_crm.test_settings"}).stdout
    for option in [a for a in argv[argv.index(command) + 1:] if a.startswith("--")]:
        assert option in helptext, option

