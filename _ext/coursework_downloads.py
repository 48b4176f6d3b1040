"""The Coursework page offers each assignment's student notebook as a download.

The student notebooks are generated from the instructor's sources (coursework/build.py; they are
never committed, so they cannot drift from the sources). When the build starts, this extension
starts `coursework/build.py --students-only _build/html/coursework` beside it (and waits for it
when the HTML is written), which writes
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


def start_student_notebooks(app):
    """Start coursework/build.py as soon as the build starts: it needs only the sources, so it runs
    beside Sphinx's reading and writing instead of after them."""
    app.coursework_build = None
    script = Path(app.srcdir) / "coursework" / "build.py"
    if app.builder.format != "html" or not script.exists():   # no coursework (e.g. the tests' mini-books)
        return
    app.coursework_build = subprocess.Popen(
        [sys.executable, str(script), "--students-only", str(Path(app.outdir) / "coursework"), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def write_student_notebooks(app, exception):
    process = getattr(app, "coursework_build", None)
    if process is None:
        return
    if exception is not None:
        process.kill()
        process.communicate()
        return
    output, _ = process.communicate()
    if process.returncode != 0:
        logger.warning("coursework/build.py could not write the student notebooks for download:\n%s",
                       output[-3000:])
    else:
        logger.info(output.strip())


def setup(app):
    app.connect("builder-inited", start_student_notebooks)
    app.connect("build-finished", write_student_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
