"""Pickup labels: signed QR tokens, templates as data, and the PDF renderer."""

from dispensing.labels.model import LabelData
from dispensing.labels.renderer import LabelRenderer, ReportLabRenderer, render_labels
from dispensing.labels.templates import LabelTemplate, available_templates, load_template
from dispensing.labels.tokens import (
    LabelClaims,
    load_or_create_signing_key,
    public_key_pem,
    sign_label,
    verify_label,
)

__all__ = [
    "LabelClaims",
    "LabelData",
    "LabelRenderer",
    "LabelTemplate",
    "ReportLabRenderer",
    "available_templates",
    "load_or_create_signing_key",
    "load_template",
    "public_key_pem",
    "render_labels",
    "sign_label",
    "verify_label",
]
