"""Fax test material: a multi-page PDF drawn with Ghostscript, and pages rasterised to bits for comparing what
was sent with what was received."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fax.images import HEIGHT, RESOLUTION, WIDTH

# each page: its number in large type, a diagonal whose slope depends on the page, a box and a line of text
PAGE_PS = """
/Helvetica-Bold findfont 96 scalefont setfont
72 690 moveto (Page {n}) show
newpath 90 120 moveto {x} 520 lineto 6 setlinewidth stroke
newpath 330 {y} moveto 200 0 rlineto 0 90 rlineto -200 0 rlineto closepath 3 setlinewidth stroke
/Helvetica findfont 22 scalefont setfont
72 600 moveto (Hotline fax test: page {n} of {total}) show
showpage
"""


def make_pdf(path: Path, pages: int) -> Path:
    ps = path.with_suffix(".ps")
    ps.write_text("%!PS\n" + "".join(PAGE_PS.format(n=n, total=pages, x=150 + 100 * n, y=140 + 60 * n)
                                     for n in range(1, pages + 1)))  # fmt: skip
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-sPAPERSIZE=a4",
                    f"-sOutputFile={path}", str(ps)], check=True, timeout=60)  # fmt: skip
    return path


def raster(pdf: Path, workdir: Path) -> list[bytes]:
    """Each page as packed 1-bit rows at fax resolution (PBM's raw body)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{pdf.stem}-%03d.pbm"
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pbmraw", f"-r{RESOLUTION}",
                    f"-g{WIDTH}x{HEIGHT}", "-dFIXEDMEDIA", "-dPDFFitPage", f"-sOutputFile={out}", str(pdf)],
                   check=True, timeout=120)  # fmt: skip
    pages = []
    for p in sorted(workdir.glob(f"{pdf.stem}-*.pbm")):
        data = p.read_bytes()
        # header: P4, width height, one whitespace, then the rows
        head, _, rest = data.partition(b"\n")
        dims, _, body = rest.partition(b"\n")
        while dims.startswith(b"#"):
            dims, _, body = body.partition(b"\n")
        assert head == b"P4", p
        pages.append(body)
    return pages


def differing(a: bytes, b: bytes) -> float:
    """Share of pixels that differ between two pages of the same size (1.0 when the sizes differ)."""
    if len(a) != len(b):
        return 1.0
    diff = sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))
    return diff / (len(a) * 8)


def ink(page: bytes) -> int:
    return sum(bin(x).count("1") for x in page)
