"""The privacy pages: an educator's download of their own records from inside the LMS."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("privacy", __name__, template_folder="templates")
