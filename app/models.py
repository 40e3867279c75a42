"""Every model, imported in one place so that the metadata is complete (for Alembic)."""

from app.admin import models as admin_models
from app.audit import models as audit_models
from app.badges import models as badges_models
from app.catalog import models as catalog_models
from app.db import Base
from app.devlms import models as devlms_models
from app.evidence import models as evidence_models
from app.grading import models as grading_models
from app.linking import models as linking_models
from app.lti import models as lti_models
from app.outbox import models as outbox_models
from app.privacy import models as privacy_models

metadata = Base.metadata

__all__ = [
    "admin_models",
    "audit_models",
    "badges_models",
    "catalog_models",
    "devlms_models",
    "evidence_models",
    "grading_models",
    "linking_models",
    "lti_models",
    "metadata",
    "outbox_models",
    "privacy_models",
]
