"""How hard the fuzz tests push: a short seeded run in CI, a long random one on request.

CI uses `fuzz-ci`: each test derandomized (its seed derived from the test, so every run tries
the same inputs), no example database, a few hundred examples. `BRAINCHAIN_FUZZ=long` selects
`fuzz-long` (README.md, "Fuzzing"): fresh random inputs each run, many more of them, and any
failure saved in .hypothesis/ and tried first on the next run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW_INPUTS_ARE_THE_POINT = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "fuzz-ci",
    derandomize=True,
    database=None,
    max_examples=200,
    deadline=None,
    suppress_health_check=_SLOW_INPUTS_ARE_THE_POINT,
)
settings.register_profile(
    "fuzz-long",
    max_examples=int(os.environ.get("BRAINCHAIN_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=_SLOW_INPUTS_ARE_THE_POINT,
)

FUZZ = settings.get_profile(
    "fuzz-long" if os.environ.get("BRAINCHAIN_FUZZ") == "long" else "fuzz-ci"
)
