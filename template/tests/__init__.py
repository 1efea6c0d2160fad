"""The service's tests. Helpers in ``tests/support.py`` assert too: pytest rewrites their asserts
like a test module's, so a failing one shows the values it compared."""

import pytest

pytest.register_assert_rewrite("tests.support")
