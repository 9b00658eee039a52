"""Domain packages import one way (core <- audit <- people <- auth <- committees <- meetings
<- agenda <- minutes <- actions <- packs, ical, search <- api), as .importlinter says; a lower
package lets a higher one react through signals. Pages (views) are doors and may compose any
package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_domain_packages_import_one_way():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_reactions_of_higher_packages_are_connected(app):
    """A lower package asks through a signal; a receiver that was never loaded would let an
    item with a minute be removed, or a published agenda go without its packs."""
    from app.agenda import signals as agenda
    from app.minutes import signals as minutes

    for signal in (
        agenda.paper_stored,
        agenda.removal_blockers,
        agenda.agenda_published,
        minutes.removal_blockers,
    ):
        assert signal.receivers, signal.name
