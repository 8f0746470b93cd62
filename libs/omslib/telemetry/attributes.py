"""Span attribute names of this project; always use these, never string literals."""

SPAN_ATTR_ORDER_ID = "oms.order_id"
SPAN_ATTR_PLATFORM = "oms.platform"
SPAN_ATTR_GID = "oms.gid"
SPAN_ATTR_BRANCH = "oms.branch"
