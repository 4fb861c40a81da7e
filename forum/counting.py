"""Counts of rows as correlated subqueries, for counters checked or recomputed in one query."""

from __future__ import annotations

from django.db import models
from django.db.models import Count, Subquery, Value
from django.db.models.functions import Coalesce


def subquery_count(queryset: models.QuerySet, field: str) -> Coalesce:
    """How many rows `queryset` (filtered on an OuterRef through `field`) holds, 0 for none.
    A subquery each: several counts over different tables, joined, would multiply each other's
    rows."""
    counted = queryset.order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), Value(0))
