"""Real PDFs made on the fly for upload tests."""

from __future__ import annotations

import io

import pikepdf


def make_pdf(
    pages: int = 1, text: str | None = None, encryption=None, title: str | None = None
) -> bytes:
    pdf = pikepdf.new()
    if title:
        pdf.docinfo = pdf.make_indirect(pikepdf.Dictionary(Title=title))
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = title
    for n in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
        if text:
            page = pdf.pages[n]
            font = pdf.make_indirect(
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Font,
                    Subtype=pikepdf.Name.Type1,
                    BaseFont=pikepdf.Name.Helvetica,
                )
            )
            page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
            content = f"BT /F1 12 Tf 72 770 Td ({text} page {n + 1}) Tj ET".encode()
            page.Contents = pdf.make_stream(content)
    out = io.BytesIO()
    pdf.save(out, encryption=encryption)
    return out.getvalue()
