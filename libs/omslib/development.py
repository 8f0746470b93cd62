"""The published development credentials, and the mode that alone may use them.

`make run` gives the gateway these platform secrets and `oms send` signs with them,
so a local stack works out of the box. They are in this repository for anyone to
read: a gateway accepting them would accept pushes signed by anyone, so the gateway
refuses them at start-up unless ``OMS_ENV=development`` (which the local stack sets).
See docs/security.md, "Development mode", and docs/platforms.md.
"""

from __future__ import annotations

DEVELOPMENT = "development"

DEV_SHOP_SECRET = "whsec_b21zLWRldi1zaG9wLXNlY3JldC1jaGFuZ2UtbWU="
# Likewise for the marketplace platforms and the after-sales channels.
DEV_PLATFORM_ENV = {
    "OMS_PLATFORM_SHOPIFY_SECRET": "dev-shopify-secret-change-me",
    "OMS_PLATFORM_DOUYIN_KEY": "dev-douyin-app-key",
    "OMS_PLATFORM_DOUYIN_SECRET": "dev-douyin-secret-change-me",
    "OMS_PLATFORM_YOUZAN_ID": "dev-youzan-client-id",
    "OMS_PLATFORM_YOUZAN_SECRET": "dev-youzan-secret-change-me",
    "OMS_PLATFORM_TAOBAO_KEY": "dev-taobao-app-key",
    "OMS_PLATFORM_TAOBAO_SECRET": "dev-taobao-secret-change-me",
    "OMS_PLATFORM_JD_KEY": "dev-jd-app-key",
    "OMS_PLATFORM_JD_SECRET": "dev-jd-secret-change-me",
    # A WeChat callback token and the demo web-form token.
    "OMS_PLATFORM_WECHAT_TOKEN": "devWechatTokenChangeMe",
    "OMS_FORM_TOKENS": '{"demo": "dev-form-token-change-me"}',
}

_SECRET_NAMES = ("_SECRET", "_TOKEN", "_TOKENS")
#: Secret values nobody may rely on outside development.
PUBLISHED_SECRETS = frozenset(
    {DEV_SHOP_SECRET}
    | {value for name, value in DEV_PLATFORM_ENV.items() if name.endswith(_SECRET_NAMES)}
)
