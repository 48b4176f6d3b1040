"""The Coursework page offers each assignment's student notebook as a download.

The student notebooks are generated from the instructor's sources (coursework/build.py; they are
never committed, so they cannot drift from the sources). After the HTML is written, this
extension runs `coursework/build.py --students-only _build/html/coursework`, which writes
`coursework/NAME.ipynb` next to the Coursework page (only the student copies: no solutions, no
hidden tests) and skips the work when no source changed. A failure is logged as a warning, so
the strict build fails rather than publish a page with dead download links.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


def write_student_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    script = Path(app.srcdir) / "coursework" / "build.py"
    if not script.exists():   # a book without coursework (e.g. the tests' mini-books)
        return
    result = subprocess.run([sys.executable, str(script), "--students-only",
                             str(Path(app.outdir) / "coursework"), "--jobs", "2"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        logger.warning("coursework/build.py could not write the student notebooks for download:\n%s",
                       (result.stdout + result.stderr)[-3000:])
    else:
        logger.info(result.stdout.strip())


def setup(app):
    app.connect("build-finished", write_student_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
