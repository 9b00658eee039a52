"""What WeasyPrint's tagged output lacks for PDF/UA, put right with pikepdf on every tagged
part it renders (agenda, minutes, action log and the other generated pages).

- Margin boxes (the page numbers and the DRAFT mark of @page rules): WeasyPrint gives their
  text marked-content ids and structure elements, but links those elements into nothing, so
  the text is neither real content nor an artifact. Such text is pagination, which PDF/UA
  wants marked as an artifact, so screen readers skip it on every page.
- Table header cells: WeasyPrint ties each data cell to its headers by /Headers, but writes
  no /Scope on the header cells, which checkers (and some readers) look for.
"""

from __future__ import annotations

import io

import pikepdf

Name = pikepdf.Name

VERSION = 1  # part of the rendered-part cache key: bump when finish() changes

PAGINATION = pikepdf.Dictionary(Type=Name.Pagination)


def finish(data: bytes) -> bytes:
    """The tagged PDF `data` with margin-box text as pagination artifacts and every table
    header cell scoped; a PDF with no structure tree is returned as it is."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pdf.Root.get("/StructTreeRoot")
        if root is None:
            return data
        reachable = _reachable(root)
        _margin_artifacts(pdf, root, reachable)
        _table_scopes(pdf, reachable)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, compress_streams=True)
        return out.getvalue()


def _kids(elem) -> list:
    kids = elem.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _reachable(root) -> dict[tuple[int, int], pikepdf.Dictionary]:
    """Every structure element under the root, by object id."""
    found: dict[tuple[int, int], pikepdf.Dictionary] = {}
    todo = _kids(root)
    while todo:
        elem = todo.pop()
        if not isinstance(elem, pikepdf.Dictionary) or elem.get("/Type") in (
            Name.MCR,
            Name.OBJR,
        ):
            continue
        if elem.is_indirect:
            if elem.objgen in found:
                continue
            found[elem.objgen] = elem
        todo.extend(_kids(elem))
    return found


def _margin_artifacts(pdf: pikepdf.Pdf, root, reachable) -> None:
    """Mark as pagination artifacts the marked content whose element is outside the tree."""
    nums = root.ParentTree.get("/Nums")
    if nums is None:  # WeasyPrint writes one flat array; anything else is left alone
        return
    entries = {int(nums[i]): nums[i + 1] for i in range(0, len(nums) - 1, 2)}
    for page in pdf.pages:
        if "/StructParents" not in page.obj:
            continue
        mapping = entries.get(int(page.obj.StructParents))
        if not isinstance(mapping, pikepdf.Array):
            continue
        stray = set()
        for mcid, elem in enumerate(mapping):
            if (
                isinstance(elem, pikepdf.Dictionary)
                and elem.is_indirect
                and elem.objgen not in reachable
            ):
                stray.add(mcid)
                mapping[mcid] = None
        if not stray:
            continue
        # Margin boxes are drawn last, so their ids are normally the last of the page's.
        while len(mapping) and mapping[len(mapping) - 1] is None:
            del mapping[len(mapping) - 1]
        instructions = []
        for operands, operator in pikepdf.parse_content_stream(page):
            if str(operator) == "BDC" and len(operands) == 2:
                props = operands[1]
                if isinstance(props, pikepdf.Dictionary) and int(props.get("/MCID", -1)) in stray:
                    operands = [Name.Artifact, PAGINATION]
            instructions.append((operands, operator))
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))


def _table_attributes(cell) -> pikepdf.Dictionary:
    """The cell's Table attribute dictionary, added if it has none."""
    attrs = _as_list(cell.get("/A"))
    for attr in attrs:
        if isinstance(attr, pikepdf.Dictionary) and attr.get("/O") == Name.Table:
            return attr
    cell.A = pikepdf.Array([*attrs, pikepdf.Dictionary(O=Name.Table)])
    return cell.A[-1]


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, pikepdf.Array) else [value]


def _table_scopes(pdf: pikepdf.Pdf, reachable) -> None:
    """Give each header cell a /Scope: Row when a data cell of its own row names it among its
    /Headers (WeasyPrint does so for th scope="row"), or when it is the only cell of its row
    (a section heading across the table); otherwise Column."""
    for row in reachable.values():
        if row.get("/S") != Name.TR:
            continue
        cells = [c for c in _kids(row) if isinstance(c, pikepdf.Dictionary)]
        named = set()
        for cell in cells:
            if cell.get("/S") == Name.TD:
                for attr in _as_list(cell.get("/A")):
                    if isinstance(attr, pikepdf.Dictionary):
                        named.update(bytes(h) for h in attr.get("/Headers", []))
        for cell in cells:
            if cell.get("/S") != Name.TH:
                continue
            ident = cell.get("/ID")
            row_header = len(cells) == 1 or (ident is not None and bytes(ident) in named)
            _table_attributes(cell).Scope = Name.Row if row_header else Name.Column
