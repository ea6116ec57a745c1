import pytest

from tests.conftest import MODEL_PATH
from tests.servers import running_servers


@pytest.fixture(scope="session")
def servers(tmp_path_factory):  # noqa: ANN001, ANN201
    """Action server + Rasa server with the trained model, on private SQLite databases."""
    with running_servers(tmp_path_factory.mktemp("servers"), MODEL_PATH) as s:
        yield s
