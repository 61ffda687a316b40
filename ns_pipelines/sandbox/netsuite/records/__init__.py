"""The sandbox's REST record service (record/v1): record shapes, business rules, `q` filters and
the metadata catalog. See service.RecordService."""
from .changes import Notify
from .service import RecordService

__all__ = ["RecordService", "Notify"]
