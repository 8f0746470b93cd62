"""POST alerts to an operator's webhook: the one implementation lives in omslib."""

from omslib.alert_webhook import AlertWebhook

__all__ = ["AlertWebhook"]
