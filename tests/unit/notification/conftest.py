import pytest

from inovda_notification.domain import Renderer


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return Renderer()
