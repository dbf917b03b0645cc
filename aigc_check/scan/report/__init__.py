"""report.html's assets: the page's script, style and interface words, inlined when the report is written."""
