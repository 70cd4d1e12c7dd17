"""The benchmark-only no-work routes exist only when RESPIJT_BENCH_ROUTES is on."""

from __future__ import annotations

from respijt import create_app
from respijt.config import settings_from_env


def test_bench_routes_are_off_by_default(client):
    assert client.get("/api/v1/_bench/noop").status_code == 404
    assert client.post("/api/v1/_bench/noop").status_code == 404


def test_bench_routes_answer_without_work_when_switched_on(tmp_path):
    settings = settings_from_env({"RESPIJT_BENCH_ROUTES": "on"}, str(tmp_path))
    assert settings["RESPIJT_BENCH_ROUTES"] is True
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "RESPIJT_BENCH_ROUTES": True}
    )
    client = app.test_client()
    for response in (client.get("/api/v1/_bench/noop"), client.post("/api/v1/_bench/noop")):
        assert response.status_code == 200
        assert response.get_json() == {"ok": True}
        assert response.headers["API-Version"]
