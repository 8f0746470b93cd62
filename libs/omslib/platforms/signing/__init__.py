"""Each platform's signature construction, as pure functions.

The gateway's verifiers and the sample builders (``omslib.platforms.samples``) call the
same functions, so a sample is accepted exactly when a real push would be.
"""
