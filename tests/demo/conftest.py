"""The protocol tests' fixtures (apps with the hosted-page harness) serve the demo too."""

from tests.oauth.conftest import app_with  # noqa: F401 - a fixture
