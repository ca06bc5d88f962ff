"""A run folder after a redaction is applied: the redacted values are removed from every file the run wrote
(checkpoints decoded and stored again, events, changes, reports, review sheets, pending lists), then from the
workspace (`Ledger.forget`: versions, the input's copy, the ledger's cells and free pages). Files are scrubbed
before the ledger marks the redactions forgotten, so a run killed midway forgets them again next time."""

from __future__ import annotations

from pathlib import Path

from copilot.core.scrub import TEXT_SUFFIXES, is_sqlite, scrub_text_file
from copilot.ledger import Ledger
from copilot.ledger.forget import leftovers
from copilot.run.checkpoints import scrub_checkpoints


def forget_redactions(out_dir: Path, ledger: Ledger) -> list[str]:
    """What was forgotten, in words (empty: no applied redaction was left to forget). Files that still hold a
    value afterwards are named: an export made before the redaction, or a row whose redaction was rejected."""
    redactions = ledger.redactions_to_forget()
    if not redactions:
        return []
    replacements = [r.replacement for r in redactions]
    ledger_dir = ledger.store.root.resolve()
    exports = {Path(e.path).resolve() for e in ledger.exports()}
    scrubbed = 0
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        real = path.resolve()
        if real == ledger_dir or ledger_dir in real.parents or real in exports or path.name.endswith(".lock"):
            continue
        if is_sqlite(path):
            scrubbed += scrub_checkpoints(path, replacements) > 0
        elif path.suffix in TEXT_SUFFIXES or path.name.endswith(tuple(f"{s}.gz" for s in TEXT_SUFFIXES)):
            scrubbed += scrub_text_file(path, replacements)
    notes = [f"forgot {len(redactions)} redacted values: {scrubbed} run files rewritten", *ledger.forget(redactions)]
    left = leftovers(out_dir, [r.value for r in redactions])
    if left:
        shown = ", ".join(str(p.relative_to(out_dir)) for p in left[:5])
        notes.append(
            f"still holding a redacted value: {shown} (an export made before the redaction, or rows whose "
            f"redaction was not approved)"
        )
    return notes
