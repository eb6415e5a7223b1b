"""The documentation holds against the tree it describes."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "faxcore"


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = text.find("\n## ", start + len(heading))
    return text[start:following if following != -1 else len(text)]


def test_the_architecture_packages_table_names_every_package_and_module_once() -> None:
    packages = _section((ROOT / "docs" / "architecture.md").read_text(),
                        "## Packages (`faxcore/`)")
    rows = re.findall(r"^\| `([a-z_]+(?:/|\.py))` \|", packages, flags=re.MULTILINE)
    in_tree = ({f"{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
               | {p.name for p in PACKAGE.glob("*.py")
                  if p.name not in {"__init__.py", "__main__.py"}})
    assert sorted(rows) == sorted(set(rows)), "a package is described twice"
    assert set(rows) == in_tree
