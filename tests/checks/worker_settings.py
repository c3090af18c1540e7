"""Settings of the Celery workers the checks tests start: the test settings plus test-only knobs."""

import os

from config.settings_test import *  # noqa: F403

# checks.services sleeps this long inside check_process, with the check claimed and its
# row locked, so that a test can watch it "processing" or kill the worker mid-check.
STEMMA_TEST_CHECK_DELAY_S = float(os.environ.get("STEMMA_TEST_CHECK_DELAY_S", "0"))
STEMMA_AI_DETECTOR_ENABLED = False  # as in the in-process checks tests (conftest.py)
