"""{% personal "kind" %}…{% endpersonal %}: see forum.caching.slots."""

from forum.caching.slots import register

__all__ = ["register"]
