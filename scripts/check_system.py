"""Say which Debian package to install when a system library the app needs is missing."""

from __future__ import annotations

import ctypes.util
import shutil
import sys

# (what, how to detect it, apt package)
LIBRARIES = [
    ("Pango (PDF rendering)", "pango-1.0", "libpango-1.0-0"),
    ("PangoFT2 (PDF rendering)", "pangoft2-1.0", "libpangoft2-1.0-0"),
    ("HarfBuzz subsetting (PDF fonts)", "harfbuzz-subset", "libharfbuzz-subset0"),
]


def main() -> int:
    missing = [(what, pkg) for what, lib, pkg in LIBRARIES if ctypes.util.find_library(lib) is None]
    for what, pkg in missing:
        print(f"missing {what}: apt-get install {pkg}", file=sys.stderr)
    if shutil.which("chromium") is None:
        print(
            "note: browser tests need Chromium (apt-get install chromium); "
            "without it they are skipped outside CI",
            file=sys.stderr,
        )
    if shutil.which("pdftoppm") is None or shutil.which("pdfunite") is None:
        print(
            "note: packs pad every uploaded page under its page stamp without poppler "
            "(apt-get install poppler-utils), which also the PDF tests need",
            file=sys.stderr,
        )
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
