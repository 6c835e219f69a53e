"""Compile the .po translation catalogues to .mo with polib (no GNU gettext needed)."""

from __future__ import annotations

from pathlib import Path

import polib

root = Path(__file__).resolve().parent.parent / "src" / "jianguan" / "locale"
for po_path in root.glob("*/LC_MESSAGES/*.po"):
    polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
    print(f"compiled {po_path.relative_to(root)}")
