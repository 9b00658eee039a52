from app.minutes.markdown import render


def test_markdown_is_rendered_and_sanitised():
    html = str(
        render(
            "Sue was **thanked**.\n\n- one\n- two\n\n<script>alert(1)</script>"
            "\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>"
        )
    )
    assert "<strong>thanked</strong>" in html
    assert '<ul class="govuk-list govuk-list--bullet">' in html
    # Typed HTML is shown as text, never run.
    assert "<script" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert "<img" not in html


def test_minute_references_become_links():
    html = str(render("(Minute No. 86(1) refers)", lambda n, o: f"/m/{n}/{o}"))
    assert '<a class="govuk-link" href="/m/86/1">Minute No. 86(1)</a>' in html
