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


def weasyprint_pdf(pages: int = 5) -> bytes:
    """A multi-page paper as a real producer writes it (WeasyPrint: text, fonts, compression)."""
    import weasyprint

    body = "".join(
        f"<section style='page-break-after: always'><h1>Report section {n + 1}</h1>"
        f"<p>{'The partnership considered the action plan and its budget. ' * 25}</p></section>"
        for n in range(pages)
    )
    return weasyprint.HTML(string=f"<html lang='en'><body>{body}</body></html>").write_pdf()


def resaved(data: bytes, **save_options) -> bytes:
    """The same PDF saved again by qpdf, e.g. linearised or with object streams."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(out, **save_options)
    return out.getvalue()


def with_incremental_update(data: bytes, title: str = "Revised") -> bytes:
    """The PDF with an incremental update appended, as Acrobat writes a small edit."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        size = int(pdf.trailer.Size)
        root = pdf.Root.objgen
    prev = int(data[data.rindex(b"startxref") + 9 :].split()[0])
    body = bytearray(data if data.endswith(b"\n") else data + b"\n")
    info_at = len(body)
    body += f"{size} 0 obj\n<< /Title ({title}) >>\nendobj\n".encode()
    xref_at = len(body)
    body += f"xref\n{size} 1\n{info_at:010d} 00000 n \n".encode()
    body += (
        f"trailer\n<< /Size {size + 1} /Root {root[0]} {root[1]} R /Info {size} 0 R "
        f"/Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return bytes(body)
