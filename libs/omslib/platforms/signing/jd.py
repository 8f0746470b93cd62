"""JD (JOS): sign = upper hex MD5(secret + sorted name+value pairs + secret)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from omslib.platforms.signing.parameters import sorted_name_values

#: The parameter that carries the business JSON.
PARAM_JSON = "360buy_param_json"


def sign(secret: str, params: Mapping[str, str]) -> str:
    text = sorted_name_values(params)
    return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()
