import pytest

from tests.conftest import MODEL_PATH
from tests.servers import Servers


@pytest.fixture(scope="session")
def servers(tmp_path_factory):  # noqa: ANN001, ANN201
    """Action server + Rasa server with the trained model, on private SQLite databases."""
    if not MODEL_PATH.exists():
        pytest.fail(f"trained model missing at {MODEL_PATH}: run scripts/train.sh (make test does)")
    workdir = tmp_path_factory.mktemp("servers")
    from bot.store.migrate import upgrade

    url = f"sqlite:///{workdir / 'accounts.db'}"
    upgrade(url)
    s = Servers(workdir=workdir, model=MODEL_PATH, database_url=url, tracker_db=workdir / "tracker.db",
                extra_env={"CHART_DIR": str(workdir / "charts")})
    s.start_actions()
    s.start_rasa()
    yield s
    s.stop_all()
