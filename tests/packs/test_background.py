"""Without Celery, a cold pack is built off the request: readers are told it is being prepared
(503, Retry-After) instead of holding a web worker, and get it once it is built."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.agenda import publication as agenda_publication
from app.agenda import services as agenda
from app.agenda.documents import add_document
from app.models import Regime
from app.packs import background
from tests.pdfs import make_pdf


@pytest.fixture
def off_request(app):
    app.config["PACK_BUILDS_OFF_REQUEST"] = True
    app.config["PACK_RETRY_AFTER"] = 3
    yield
    background.wait_for_builds()
    app.config["PACK_BUILDS_OFF_REQUEST"] = False


def test_a_cold_pack_is_prepared_off_the_request(client, db, f, off_request):
    c = f.committee(regime=Regime.NONE)
    m = f.meeting(c, starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=30))
    item = agenda.add_item(m, title="Budget")
    add_document(item, io.BytesIO(make_pdf(2, "Budget")), "b.pdf", "Budget report")
    agenda_publication.publish_agenda(m)
    db.session.commit()
    url = f"/meetings/{m.id}/pack.pdf"
    first = client.get(url)
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "3"
    assert "being prepared" in first.get_data(as_text=True)
    api = client.get(url, headers={"Accept": "application/problem+json"})
    assert api.status_code == 503 and api.headers["Retry-After"] == "3"
    background.wait_for_builds()
    deadline = time.monotonic() + 60
    while (response := client.get(url)).status_code == 503 and time.monotonic() < deadline:
        background.wait_for_builds()
        time.sleep(0.1)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
