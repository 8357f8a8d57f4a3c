"""The drill's figures and log scan (scripts/drill.py); the drill itself runs with `make drill`."""

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "drill.py"
spec = importlib.util.spec_from_file_location("drill", SCRIPT)
drill = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drill)


def test_figures_count_lost_duplicates_and_strangers():
    expected = {"k1", "k2", "k3", "k4"}
    received = [("k1", "<a@x>"), ("k2", "<b@x>"), ("k2", "<b@x>"), ("k3", "<c@x>"), ("zz", "<z@x>")]
    figures = drill.summarise(expected, received)
    assert figures == {"expected": 4, "sent": 3, "lost": 1, "duplicates": 1,
                       "duplicates_same_message_id": True, "unexpected": 1}
    assert drill.summarise(expected, [*received, ("k2", "<other@x>")])["duplicates_same_message_id"] is False


def test_log_scan_finds_lines_that_are_not_json(tmp_path):
    (tmp_path / "worker1.log").write_text(
        json.dumps({"ts": "t", "message": "email sent: k1", "email": "sent", "request_id": "r1"}) + "\n"
        + json.dumps({"ts": "t", "message": "x", "request_id": "r1"}) + "\n"
    )
    (tmp_path / "beat.log").write_text('{"ts": "t"}\n -------------- celery@host v5\n[1, 2]\n')
    logs = drill.scan_logs(sorted(tmp_path.glob("*.log")))
    assert logs["worker1"] == {"lines": 2, "not_json": 0, "first_not_json": None, "emails_sent_lines": 1,
                               "request_ids": 1}
    assert logs["beat"]["not_json"] == 2 and logs["beat"]["first_not_json"].startswith(" ----")

    report = {"figures": drill.summarise({"k1"}, [("k1", "<a@x>")]), "logs": logs, "restarted": False,
              "sent_at_kill": 1, "held_by_killed": 0, "recovery_s": 1.0, "lease_s": 60, "sweep_s": 30, "run_s": 2.0,
              "health": {200: 4}, "log_dir": str(tmp_path), "error": None}
    text = drill.format_report(report)
    assert "sent 1  lost 0  duplicates 0" in text and "not JSON: 2" in text and "beat: first non-JSON" in text
    assert "[lease 60 s + sweep every 30 s]" in text
