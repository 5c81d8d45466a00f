"""Splunk add-on knowledge as data: what Splunk derives at search time from Sysmon and Windows
XML events, so splhunt can build the same fields, eventtypes, tags and data models.

Targets the versions ESCU's own test harness installs (TA_FIELDS.md §0): Splunk Add-on for
Sysmon 4.0.0, Splunk Add-on for Microsoft Windows 8.8.0, CIM 5.2.0, plus the ES 4.5.1 Risk
data model. The reference for every line is `/work/shared/reference/TA_FIELDS.md` (cited as §N).

Layout of `knowledge/data/`
---------------------------
`sysmon_ta.yml`, `windows_ta.yml`
    One file per add-on: its `transforms` (transforms.conf) and its props.conf `stanzas`. A
    stanza's `reports`/`fieldaliases`/`evals`/`lookups`/`extracts` map class names to the
    attribute value in Splunk syntax: SPL eval expressions with string escapes NOT applied
    (§2.4; the SPL compiler unescapes), PCRE regexes as written. `provenance` says whether a
    line is verbatim, reconstructed (from §4's per-EventID tables), or incomplete.
    `done_at_ingest: true` marks the generic XML extraction (§2.2) that splhunt's ingest layer
    already performs.
`sysmon_linux.yml`
    The Splunk Add-on for Sysmon for Linux (``sourcetype = sysmon:linux``), every rule
    reconstructed (the add-on was not available): from the Sysmon 4.0.0 rule of the same name,
    adapted to ``/`` paths, and the field lists of ESCU's Sysmon for Linux data sources.
`eventtypes.yml`
    eventtypes.conf searches with their tags.conf tags (§5).
`lookups.yml`, `lookups/*.csv`
    Lookup definitions and tables; `incomplete: true` where TA_FIELDS.md cannot reproduce a table.
`datamodels/*.yml`
    CIM Endpoint, Network_Traffic, Network_Resolution, Change and ES Risk (§6): datasets,
    parents, constraints (or Endpoint's base searches), fields, calculations in JSON order.

How Splunk combines them (§1), as `Knowledge` implements it
-----------------------------------------------------------
* Stanza precedence: `[source::...]` beats `[host::...]` beats `[<sourcetype>]`; within a
  kind a literal name beats a pattern, then `priority`, then ASCII order. Sourcetype names
  match exactly and case-sensitively (`[XmlWinEventLog]` and `[xmlwineventlog]` are two
  stanzas); source/host patterns are case-sensitive unless they start with `(?i)`.
  `rename =` makes an old sourcetype searchable as the new one.
* Same attribute name in several matching stanzas: the highest-precedence one wins
  (`EVAL-vendor_product = "Microsoft Sysmon"` of the Sysmon source stanza beats the Windows
  sourcetype's `"Microsoft Windows"`). Different names all apply.
* Order: EXTRACT -> REPORT -> (KV_MODE) -> FIELDALIAS -> EVAL -> LOOKUP -> eventtypes -> tags;
  within EXTRACT/REPORT by ASCII class name (documented), within FIELDALIAS/LOOKUP by ASCII
  class name (assumed, §1/§8 item 3). EVALs behave as if run in parallel: none sees another's
  output, and a `case()` that falls through yields null, which removes the field.
* Transforms: `MV_ADD` appends to an existing field instead of discarding the new value.
  FIELDALIAS `AS` overwrites (and removes the target when the source is missing), `ASNEW`
  keeps an existing target. LOOKUP `OUTPUTNEW` fills absent fields only, `OUTPUT` overwrites.

Usage::

    from splhunt.knowledge import load_knowledge
    k = load_knowledge()
    attrs = k.merged_attributes(
        "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational", "xmlwineventlog", "host1")
    attrs.eval("vendor_product").expression        # '"Microsoft Sysmon"'
    k.dataset("Endpoint", "Processes").constraints  # ('(`cim_Endpoint_indexes`) tag=process tag=report',)
"""

from splhunt.knowledge.conf import AliasPair, LookupField, StanzaSpec
from splhunt.knowledge.datamodel import (
    DataModel,
    Dataset,
    DMCalculation,
    DMField,
    ResolvedDataset,
)
from splhunt.knowledge.model import (
    EvalRule,
    EventType,
    ExtractRule,
    FieldAlias,
    IndexTimeRule,
    Knowledge,
    LookupDef,
    LookupRule,
    MergedAttributes,
    ReportRule,
    Rule,
    Stanza,
    Transform,
    load_knowledge,
)

__all__ = [
    "AliasPair",
    "DMCalculation",
    "DMField",
    "DataModel",
    "Dataset",
    "EvalRule",
    "EventType",
    "ExtractRule",
    "FieldAlias",
    "IndexTimeRule",
    "Knowledge",
    "LookupDef",
    "LookupField",
    "LookupRule",
    "MergedAttributes",
    "ReportRule",
    "ResolvedDataset",
    "Rule",
    "Stanza",
    "StanzaSpec",
    "Transform",
    "load_knowledge",
]
