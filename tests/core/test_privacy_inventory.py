"""The data inventory (``docs/privacy.md``, issue 23 item 1) stays true: every column of every
table in the tool's metadata is classified there, either as personal data (with why it is held,
where it comes from, how long it is kept and who can see it) or in the compact lists of columns
that are not personal (the development LMS's tables in a section of their own). A new column
fails this test until someone decides which it is."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table

from app.models import metadata

INVENTORY = Path(__file__).parents[2] / "docs" / "privacy.md"
PERSONAL = "## Personal data the tool holds"
NOT_PERSONAL = "## Columns that hold no personal data"
LMS = "## The development LMS's tables"
SOURCES = ("LTI claim", "LMS service", "educator", "reviewer", "operator", "derived")
"""What the "Comes from" cell starts with: who gave the tool the value (``LMS service``: the
LMS's roster or gradebook read by the tool; ``derived``: the tool made it from values that came
from one of the others)."""
_ROW = re.compile(
    r"^\|\s*`(?P<table>[a-z_0-9]+)`\s*\|\s*`(?P<column>[a-z_0-9]+)`\s*\|(?P<rest>.*)\|\s*$"
)
_LIST = re.compile(r"^- `(?P<table>[a-z_0-9]+)`:\s*(?P<columns>.+)$")
_NAME = re.compile(r"`([a-z_0-9]+)`")


@dataclass
class Inventory:
    personal: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(table, column) → the row's other cells: what and why, comes from, kept, who sees it."""
    not_personal: set[tuple[str, str]] = field(default_factory=set)
    lms: set[tuple[str, str]] = field(default_factory=set)
    repeated: list[tuple[str, str]] = field(default_factory=list)


def _section(text: str, heading: str) -> list[str]:
    lines = text.splitlines()
    assert heading in lines, f"docs/privacy.md has no section {heading!r}"
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def parse(text: str) -> Inventory:
    """Read the inventory's personal-data table and its two lists of other columns."""
    found = Inventory()
    seen: set[tuple[str, str]] = set()

    def note(key: tuple[str, str]) -> None:
        if key in seen:
            found.repeated.append(key)
        seen.add(key)

    for line in _section(text, PERSONAL):
        row = _ROW.match(line)
        if row:
            key = (row["table"], row["column"])
            note(key)
            found.personal[key] = [cell.strip() for cell in row["rest"].split("|")]
    for heading, into in ((NOT_PERSONAL, found.not_personal), (LMS, found.lms)):
        for line in _section(text, heading):
            listed = _LIST.match(line)
            if listed:
                for column in _NAME.findall(listed["columns"]):
                    key = (listed["table"], column)
                    note(key)
                    into.add(key)
    return found


def columns_of(schema: MetaData) -> set[tuple[str, str]]:
    return {(table.name, column.name) for table in schema.tables.values() for column in table.c}


def unclassified(schema: MetaData, inventory: Inventory) -> set[tuple[str, str]]:
    """Columns of ``schema`` the inventory does not classify."""
    classified = set(inventory.personal) | inventory.not_personal | inventory.lms
    return columns_of(schema) - classified


def test_every_column_of_the_tools_tables_is_classified_in_the_inventory():
    inventory = parse(INVENTORY.read_text())
    missing = sorted(unclassified(metadata, inventory))
    assert not missing, (
        "docs/privacy.md does not say whether these columns hold personal data: "
        + ", ".join(f"{t}.{c}" for t, c in missing)
    )


def test_the_inventory_names_no_column_that_does_not_exist_and_none_twice():
    inventory = parse(INVENTORY.read_text())
    classified = set(inventory.personal) | inventory.not_personal | inventory.lms
    stale = sorted(classified - columns_of(metadata))
    assert not stale, "docs/privacy.md names columns the schema does not have: " + ", ".join(
        f"{t}.{c}" for t, c in stale
    )
    assert not inventory.repeated, f"classified more than once: {inventory.repeated}"


def test_every_personal_column_says_why_whence_how_long_and_who_sees_it():
    inventory = parse(INVENTORY.read_text())
    assert inventory.personal
    for (table, column), cells in inventory.personal.items():
        assert len(cells) == 4 and all(cells), f"{table}.{column}: a cell is missing or empty"
        assert cells[1].startswith(SOURCES), (
            f"{table}.{column}: 'Comes from' must start with one of {SOURCES}, not {cells[1]!r}"
        )


def test_the_development_lmss_tables_are_listed_as_the_lmss_and_only_there():
    inventory = parse(INVENTORY.read_text())
    for table, column in set(inventory.personal) | inventory.not_personal:
        assert not table.startswith("devlms_"), f"{table}.{column} is the development LMS's"
    for table, column in inventory.lms:
        assert table.startswith("devlms_"), f"{table}.{column} is not the development LMS's"


def test_a_column_added_to_a_model_is_reported_until_the_inventory_classifies_it():
    """The check itself can fail: a copy of the schema with one more column on ``lti_user``."""
    inventory = parse(INVENTORY.read_text())
    grown = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(grown)
    Table("lti_user", grown, Column("phone", String(40)), extend_existing=True)
    Table("privacy_new_table", grown, Column("id", Integer, primary_key=True))
    assert unclassified(grown, inventory) == {
        ("lti_user", "phone"),
        ("privacy_new_table", "id"),
    }
