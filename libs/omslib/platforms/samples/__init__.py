"""Correctly signed sample pushes of every platform, for the CLI (``oms send``), the
gateway's tests, the stack tests and the benchmarks. Serving code never builds pushes.

Each sample signs with ``omslib.platforms.signing``, the functions the gateway verifies
with, so a sample is accepted exactly when a real push would be.
"""

from omslib.platforms.samples import aftersales, douyin, jd, pdd, shop, shopify, taobao, youzan

__all__ = ["aftersales", "douyin", "jd", "pdd", "shop", "shopify", "taobao", "youzan"]
