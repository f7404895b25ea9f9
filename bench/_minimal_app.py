"""The smallest Flask app, `return "ok"`: the baseline bench/http_throughput.py serves like Attune."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok() -> str:
    """Answer ``ok``: no template, no database, no session."""
    return "ok"
