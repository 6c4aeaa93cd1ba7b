"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from r4h_pwa.extensions import db


def _differences(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_matches_the_models(empty_app):
    with empty_app.app_context():
        upgrade()
    assert _differences(empty_app) == []


def test_downgrade_then_upgrade_round_trips(empty_app):
    with empty_app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = sa.inspect(db.engine).get_table_names()
        assert set(tables) <= {"alembic_version"}
        upgrade()
    assert _differences(empty_app) == []


def test_init_db_command_creates_the_schema(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        assert "runs" in sa.inspect(db.engine).get_table_names()


def test_a_run_status_other_than_planned_or_synced_is_refused(empty_app):
    with empty_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            checks = sa.inspect(conn).get_check_constraints("runs")
        status = [c["sqltext"] for c in checks if c["name"] == "ck_runs_status"]
        assert len(status) == 1
        assert "'planned'" in status[0] and "'synced'" in status[0]
        assert "in_progress" not in status[0] and "finished" not in status[0]
