"""Read /work/shared/reference/TA_FIELDS.md into structured views, the way a reader of the
report would, so the knowledge data can be checked against it line by line."""

from __future__ import annotations

import re
from functools import cached_property


def md_code(cell: str) -> list[str]:
    """The `code spans` of a Markdown table cell, with the table escape `\\|` undone."""
    return [c.replace("\\|", "|") for c in re.findall(r"`([^`]*)`", cell)]


def md_cells(row: str) -> list[str]:
    """Cells of a Markdown table row (`\\|` does not split)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class TaFields:
    """Structured views of TA_FIELDS.md, parsed the way a reader of the report would."""

    def __init__(self, text: str):
        self.text = text

    def section(self, start: str, end: str) -> str:
        i = self.text.index(start)
        return self.text[i : self.text.index(end, i)]

    @staticmethod
    def code_blocks(text: str) -> list[str]:
        return re.findall(r"```\n(.*?)```", text, re.S)

    @staticmethod
    def conf_attributes(block: str) -> dict[str, str]:
        """`TYPE-class = value` lines of a props.conf excerpt, continuation lines kept."""
        out: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            m = re.match(r"((?:EVAL|FIELDALIAS|LOOKUP|REPORT|EXTRACT|KV_MODE)[-\w]*) = (.*)$", line)
            if m and (key is None or not out[key].endswith("\\")):
                key = m.group(1)
                out[key] = m.group(2)
            elif key is not None and out[key].endswith("\\"):
                out[key] += "\n" + line
        return out

    @cached_property
    def sec3_attributes(self) -> dict[str, str]:
        sec = self.section("## 3. EventID 7", "## 4. Per-EventID")
        return self.conf_attributes(self.code_blocks(sec)[0])

    @cached_property
    def sec4_rows(self) -> dict[int, list[tuple[str, str]]]:
        """EventID -> [(output field cell, rule cell)] from §4's per-EventID tables."""
        sec = self.section("## 4. Per-EventID", "## 5. eventtypes")
        rows: dict[int, list[tuple[str, str]]] = {}
        for part in re.split(r"^#### EventID ", sec, flags=re.M)[1:]:
            eid = int(part.split()[0])
            rows[eid] = [
                (cells[0], cells[1])
                for line in part.splitlines()
                if line.startswith("| ") and not line.startswith("| CIM")
                for cells in [md_cells(line)]
                if len(cells) == 2
            ]
        return rows

    @cached_property
    def sec23_rows(self) -> dict[str, list[str]]:
        """transform name cell -> [regex cell, format cell] from the §2.3 table."""
        sec = self.section("### 2.3", "### 2.4")
        out = {}
        for line in sec.splitlines():
            if line.startswith("| ") and not line.startswith("| transform"):
                cells = md_cells(line)
                out[cells[0]] = cells[1:]
        return out

    @cached_property
    def sec5_rows(self) -> dict[str, list[str]]:
        sec = self.section("## 5. eventtypes", "## 6. CIM")
        return {
            md_cells(line)[0]: md_cells(line)[1:]
            for line in sec.splitlines()
            if line.startswith("| ms-sysmon-")
        }

    @cached_property
    def sec6_datasets(self) -> dict[str, dict[str, dict]]:
        """model -> dataset -> {parent, constraint|baseSearch, tags, fields, evals} (§6 listing)."""
        sec = self.section("Full machine-extracted listing", "### Risk (not CIM")
        models: dict[str, dict[str, dict]] = {}
        for part in re.split(r"^### ", sec, flags=re.M)[1:]:
            model = part.split()[0]
            models[model] = {}
            for ds in re.split(r"^#### ", part, flags=re.M)[1:]:
                head, body = ds.split("\n", 1)
                name, parent = re.match(r"(\w+)\s+\(parent: (\w+)\)", head).groups()
                entry: dict = {"parent": parent, "fields": [], "evals": {}, "tags": []}
                for line in body.splitlines():
                    if line.startswith("- baseSearch: ") or line.startswith("- constraint: "):
                        kind = line[2:].split(":")[0]
                        entry[kind] = line.split(": `", 1)[1][:-1]
                    elif line.startswith("- comment.tags: "):
                        entry["tags"] = re.findall(r"'(\w+)'", line)
                    elif line.startswith("- extracted fields"):
                        entry["fields"] = line.split(": ", 1)[1].split(", ")
                    elif line.startswith("- eval "):
                        m = re.match(r"- eval `(\w+)(?:\(mv\))?` = `(.*)`$", line)
                        entry["evals"][m.group(1)] = m.group(2)
                models[model][name] = entry
        return models
