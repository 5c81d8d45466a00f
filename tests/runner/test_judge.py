"""contentctl's pass rule, transcribed in `splhunt.runner.testing.judge`."""

from __future__ import annotations

from typing import Any

from splhunt.content import Detection
from splhunt.runner.testing import (
    FAIL,
    PASS,
    dataset_relpath,
    judge,
    resolve_data,
    risk_and_threat_fields,
)


def _det(**kw: Any) -> Detection:
    return Detection.model_validate({"name": "d", "id": "1", "search": "x", **kw})


TAGS = _det(
    tags={
        "observable": [
            {"name": "dest", "type": "Hostname", "role": ["Victim"]},
            {"name": "user", "type": "User", "role": ["Victim"]},
            {"name": "process_name", "type": "Process", "role": ["Attacker"]},
            {"name": "parent", "type": "Process", "role": ["Parent Process"]},
        ],
        "risk_score": 40,
    }
)
RBA = _det(
    rba={
        "message": "m",
        "risk_objects": [{"field": "dest", "type": "system", "score": 20}],
        "threat_objects": [{"field": "process", "type": "process"}],
    }
)
NO_RISK = _det()


def test_fields_by_form() -> None:
    assert risk_and_threat_fields(TAGS) == (["dest", "user"], ["process_name"])
    assert risk_and_threat_fields(RBA) == (["dest"], ["process"])
    assert risk_and_threat_fields(NO_RISK) == ([], [])


def test_no_results_fails() -> None:
    assert judge(RBA, []) == (FAIL, "no results")
    assert judge(NO_RISK, [])[0] == FAIL


def test_any_result_passes_without_risk_spec() -> None:
    assert judge(NO_RISK, [{"a": None}]) == (PASS, "")


def test_risk_object_null_in_one_result_fails() -> None:
    rows = [{"dest": "h1", "process": "p"}, {"dest": None, "process": "p"}]
    # the first row already has every threat object: contentctl passes at the first such row
    assert judge(RBA, rows)[0] == PASS
    status, reason = judge(RBA, list(reversed(rows)))
    assert status == FAIL and "dest" in reason


def test_literal_null_and_absent_are_null() -> None:
    assert judge(RBA, [{"dest": "null", "process": "p"}])[0] == FAIL
    assert judge(RBA, [{"process": "p"}])[0] == FAIL
    assert judge(RBA, [{"dest": [], "process": "p"}])[0] == FAIL
    assert judge(RBA, [{"dest": ["a", "b"], "process": "p"}])[0] == PASS


def test_threat_objects_need_a_value_in_some_result() -> None:
    assert judge(RBA, [{"dest": "h", "process": None}])[0] == FAIL
    # no single row has every threat object, but each threat object has a value somewhere
    rows = [{"dest": "h", "user": "u", "process_name": None}, {"dest": "h", "user": "u", "process_name": "x"}]
    assert judge(TAGS, rows)[0] == PASS
    rows = [{"dest": "h", "user": "u", "process_name": None}] * 2
    status, reason = judge(TAGS, rows)
    assert status == FAIL and "process_name" in reason


def test_tags_victims_are_risk_objects_whatever_their_type() -> None:
    rows = [{"dest": "h", "user": None, "process_name": "x"}]
    status, reason = judge(TAGS, rows)
    assert status == FAIL and "user" in reason


def test_dataset_paths(tmp_path) -> None:  # noqa: ANN001
    url = "https://media.githubusercontent.com/media/splunk/attack_data/master/datasets/a/b%20c/x.log"
    assert dataset_relpath(url) == "a/b c/x.log"
    assert dataset_relpath("https://example.org/other/x.log") is None
    f = tmp_path / "datasets" / "a" / "b c" / "x.log"
    f.parent.mkdir(parents=True)
    f.write_text("x")
    assert resolve_data(url, tmp_path) == f  # checkout root
    assert resolve_data(url, tmp_path / "datasets") == f  # datasets root
    assert resolve_data(url, tmp_path / "elsewhere") is None
    assert resolve_data(str(f), None) == f  # a local path
