"""The Chinese catalogue follows docs/glossary.md: one Chinese term per concept."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "glossary.md"
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _glossary() -> list[dict]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("term", "") or set(cells[0]) <= {"-"}:
            continue
        term, zh, en, avoid = cells
        rows.append(
            {
                "term": term,
                "zh": zh,
                "en": [w.strip() for w in en.split(",") if w.strip()],
                "avoid": [w.strip() for w in avoid.split(",") if w.strip()],
            }
        )
    return rows


def _catalogue() -> list[tuple[str, str, str]]:
    """(context, msgid, msgstr) of every entry, plural forms joined."""
    entries = []
    for block in CATALOGUE.read_text(encoding="utf-8").split("\n\n"):
        fields, current = {}, None
        for line in block.splitlines():
            m = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if m:
                current = m.group(1)
                fields[current] = m.group(2)
            elif (m := re.match(r'^"(.*)"$', line)) and current:
                fields[current] += m.group(1)
        if fields.get("msgid"):
            english = fields["msgid"] + " " + fields.get("msgid_plural", "")
            chinese = " ".join(v for k, v in fields.items() if k.startswith("msgstr"))
            entries.append((fields.get("msgctxt", ""), english, chinese))
    return entries


def _mentions(english: str, word: str) -> bool:
    return re.search(r"\b" + re.escape(word), english, re.IGNORECASE) is not None


def test_the_glossary_has_the_domains_terms():
    terms = {row["term"].split(" (")[0] for row in _glossary()}
    for needed in ("background job", "task", "allocate", "assign", "recount", "verify"):
        assert any(t.startswith(needed) for t in terms), needed


def test_the_catalogue_uses_no_word_the_glossary_avoids():
    rows, slips = _glossary(), []
    for _ctx, english, chinese in _catalogue():
        named = [row for row in rows if any(_mentions(english, w) for w in row["en"])]
        for row in named:
            for word in row["avoid"]:
                also_meant = any(word in other["zh"] for other in named if other is not row)
                if word in chinese and not also_meant:
                    slips.append(f"{english!r} → {chinese!r}: {row['term']} is {row['zh']}")
    assert not slips, "\n".join(slips)


@pytest.mark.parametrize(
    ("context", "chinese"), [("", "名称"), ("person", "姓名")], ids=["thing", "person"]
)
def test_a_name_label_says_whose_name_it_is(context, chinese):
    [entry] = [e for e in _catalogue() if e[0] == context and e[1].strip() == "Name"]
    assert entry[2] == chinese
