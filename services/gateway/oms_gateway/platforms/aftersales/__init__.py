"""After-sales kinds of the marketplace pushes (refunds, returns, disputes, case messages).

They arrive at the same ``POST /webhooks/{platform}`` as the platform's order pushes,
signed the same way; ``routing.with_aftersales`` wraps each order adapter so that its
own ``verify`` checks them, and its translation routes them by kind.
"""
