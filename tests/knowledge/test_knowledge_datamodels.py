"""CIM 5.2.0 / ES Risk data models: inheritance, and agreement with TA_FIELDS.md §6."""

from __future__ import annotations

import pytest

EXPECTED_DATASETS = {
    "Endpoint": {"Ports", "Processes", "Services", "Filesystem", "Registry"},
    "Network_Traffic": {"All_Traffic", "Traffic_By_Action", "Allowed_Traffic", "Blocked_Traffic"},
    "Network_Resolution": {"DNS"},
    # reconstructed from the CIM manual (not in TA_FIELDS.md): see the YAML headers
    "Web": {"Web", "Proxy", "Storage"},
    "Authentication": {
        "Authentication",
        "Failed_Authentication",
        "Successful_Authentication",
        "Default_Authentication",
        "Insecure_Authentication",
        "Privileged_Authentication",
    },
    "Change": {
        "All_Changes",
        "Auditing_Changes",
        "Endpoint_Changes",
        "Endpoint_Restarts",
        "Other_Endpoint_Changes",
        "Network_Changes",
        "Device_Restarts",
        "Account_Management",
        "Accounts_Created",
        "Accounts_Deleted",
        "Account_Lockouts",
        "Accounts_Updated",
        "Instance_Changes",
    },
    "Risk": {"All_Risk"},
}


def test_models_and_datasets(knowledge):
    assert {m: set(dm.datasets) for m, dm in knowledge.datamodels.items()} == EXPECTED_DATASETS


def test_endpoint_processes_is_a_base_search_with_inherited_base_fields(knowledge):
    ds = knowledge.dataset("Endpoint", "Processes")
    assert ds.parent == "BaseSearch"
    assert ds.constraints == ("(`cim_Endpoint_indexes`) tag=process tag=report",)
    assert ds.base_pipeline == "| eval process_integrity_level=lower(process_integrity_level)"
    assert ds.search == (
        "(`cim_Endpoint_indexes`) tag=process tag=report"
        " | eval process_integrity_level=lower(process_integrity_level)"
    )
    names = [f.name for f in ds.fields]
    assert names[:4] == ["_time", "host", "source", "sourcetype"]
    assert {"process_guid", "process_hash", "loaded_file", "original_file_name"} <= set(names)
    assert ds.field("process_hash").multivalue
    assert ds.field("loaded_file").expression == (
        'if(isnull(loaded_file) OR loaded_file="","unknown",loaded_file)'
    )
    assert ds.field("loaded_file_path") is None  # not a Processes field (§3)
    assert knowledge.datamodel("Endpoint").macros["cim_Endpoint_indexes"] == "()"


def test_child_datasets_inherit_constraints_fields_and_calculations(knowledge):
    ds = knowledge.dataset("Change", "Accounts_Updated")
    assert [d.name for d in ds.chain] == ["All_Changes", "Account_Management", "Accounts_Updated"]
    assert ds.constraints == (
        "(`cim_Change_indexes`) tag=change NOT (object_category=file OR"
        " object_category=directory OR object_category=registry)",
        "tag=account",
        'action="updated" OR action="modified"',
    )
    assert ds.search.endswith(
        ' | search tag=account | search action="updated" OR action="modified"'
    )
    fields = {f.name: f for f in ds.fields}
    assert fields["change_type"].dataset == "All_Changes"  # inherited
    assert fields["src_user"].dataset == "Account_Management"
    assert fields["_time"].kind == "inherited"
    owners = [owner for owner, _ in ds.calculations]
    assert owners == sorted(owners, key=["All_Changes", "Account_Management"].index)


def test_other_endpoint_changes_reaches_three_levels(knowledge):
    ds = knowledge.dataset("Change", "Other_Endpoint_Changes")
    assert ds.constraints[1:] == ("tag=endpoint", "NOT change_type=restart")


def test_network_traffic_children(knowledge):
    ds = knowledge.dataset("Network_Traffic", "Blocked_Traffic")
    assert ds.constraints[1:] == ("action=*", "action=blocked")
    assert ds.field("action").expression.startswith("if(isnull(action)")


def test_dns_lookup_calculation_and_risk(knowledge):
    dns = knowledge.dataset("Network_Resolution", "DNS")
    lookups = [c for _, c in dns.calculations if c.kind == "lookup"]
    assert [(c.lookup, c.inputs, c.outputs) for c in lookups] == [
        ("cim_dns_reply_code_lookup", (("reply_code_id", "reply_code_id"),), ("reply_code",))
    ]
    assert dns.field("answer").multivalue and dns.field("query").multivalue
    risk = knowledge.dataset("Risk", "All_Risk")
    assert risk.constraints == ("index=risk",)
    assert risk.field("risk_score").expression == "if(isnull(risk_score),0,risk_score)"


def test_unknown_dataset_is_a_key_error(knowledge):
    with pytest.raises(KeyError):
        knowledge.dataset("Endpoint", "Nope")
    with pytest.raises(KeyError):
        knowledge.datamodel("Nope")


def test_every_dataset_agrees_with_section6(ta_fields, knowledge):
    quoted = ta_fields.sec6_datasets
    # Risk (ES) and the models reconstructed from the CIM manual are not in §6
    assert set(quoted) == set(EXPECTED_DATASETS) - {"Risk", "Web", "Authentication"}
    for model, datasets in quoted.items():
        dm = knowledge.datamodel(model)
        assert set(datasets) == set(dm.datasets), model
        for name, q in datasets.items():
            ds = dm.datasets[name]
            assert ds.parent == q["parent"], name
            assert ds.base_search == q.get("baseSearch"), name
            assert ds.constraint == q.get("constraint"), name
            assert list(ds.tags) == q["tags"], name
            ours = [f.name + ("(mv)" if f.multivalue else "") for f in ds.extracted]
            assert ours == q["fields"], name
            evals = {c.outputs[0]: c.expression for c in ds.calculations if c.kind == "eval"}
            assert evals == q["evals"], name
