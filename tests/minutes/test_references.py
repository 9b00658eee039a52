from app.minutes.references import find_references, link_references


def test_finds_the_forms_clerks_write():
    text = (
        "Further to Minute No. 204 (Sexual Exploitation) ... (Minute No. 86(1) refers) "
        "and Minute 12 (3); see also minute 7."
    )
    assert find_references(text) == [(204, None), (86, 1), (12, 3)]


def test_links_only_known_minutes_and_leaves_tags_alone():
    known = {(204, None): "/meetings/3/#minute-204", (86, 1): "/meetings/1/#minute-86"}
    html = (
        '<p>Further to Minute No. 204, and <a href="/x">Minute No. 86(1)</a>; '
        "Minute No. 999 refers.</p>"
    )
    linked = str(link_references(html, lambda n, o: known.get((n, o)) or known.get((n, None))))
    assert '<a class="govuk-link" href="/meetings/3/#minute-204">Minute No. 204</a>' in linked
    assert '<a href="/x">Minute No. 86(1)</a>' in linked  # already a link: untouched
    assert "Minute No. 999 refers" in linked and linked.count("<a ") == 2


def test_link_targets_are_escaped():
    linked = str(link_references("<p>Minute 5</p>", lambda n, o: '/m?a="><script>'))
    assert "<script>" not in linked
    assert "&#34;" in linked or "&quot;" in linked
