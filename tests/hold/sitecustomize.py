"""Test instrument, never installed: hold a workflow job at a chosen log line until killed or released.

With GRIDSCAPE_TEST_HOLD="<logger>|<regex>|<n>|<marker>" in the environment and this folder on
PYTHONPATH, every process counts the records of <logger> matching <regex> in <marker>.seen
(shared by all jobs of the run); the one that sees the n-th writes its pid to <marker> and
sleeps until it is killed or <marker>.release exists. tests/test_reliability.py uses it to
kill or signal the workflow at a known point (mid-training, mid-landscape-chunk) instead of
guessing one with a timer.
"""

import logging
import os
import re
import time

_SPEC = os.environ.get("GRIDSCAPE_TEST_HOLD")

if _SPEC:
    _LOGGER, _PATTERN, _NTH, _MARKER = _SPEC.split("|")

    class _Hold(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if re.search(_PATTERN, record.getMessage()):
                with open(_MARKER + ".seen", "a+") as seen:
                    seen.write(record.getMessage() + "\n")
                    seen.seek(0)
                    count = len(seen.readlines())
                if count == int(_NTH):
                    with open(_MARKER, "w") as handle:
                        handle.write(str(os.getpid()))
                    while not os.path.exists(_MARKER + ".release"):
                        time.sleep(0.2)
            return True

    logging.getLogger(_LOGGER).addFilter(_Hold())
