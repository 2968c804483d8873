"""`mailproof settings`: the lock minutes are kept, bounded, and every change is audited."""

from __future__ import annotations

import json


def test_lock_minutes_set_show_and_audited(cli) -> None:
    shown = json.loads(cli("settings", "show", "--json").stdout)
    assert shown == {"lock-minutes": 15}
    result = cli("settings", "set", "lock-minutes", "5", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["lock-minutes"] == 5
    assert json.loads(cli("settings", "show", "--json").stdout)["lock-minutes"] == 5
    audit = [json.loads(line) for line in cli("audit", "show", "--json").stdout.splitlines()]
    change = [e for e in audit if e["action"] == "settings changed"][-1]
    assert change["object"] == {"setting": "lock-minutes"}
    assert change["detail"] == {"old": 15, "value": 5}
    assert cli("audit", "verify").returncode == 0


def test_bad_settings_are_refused_with_one_line(cli) -> None:
    for args in (("lock-minutes", "-1"), ("lock-minutes", "100000"), ("colour", "3")):
        result = cli("settings", "set", *args)
        assert result.returncode == 2
        assert b"Traceback" not in result.stderr and b"mailproof: error:" in result.stderr
    assert json.loads(cli("settings", "show", "--json").stdout)["lock-minutes"] == 15
