"""Command-line tools: init-db, create-user, seed-demo and import-heroes."""

from datetime import date

import pytest
import sqlalchemy as sa

from r4h_pwa.admin.service import validate_hero
from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Hero, Run, Runner, Track
from tests.factories import make_hero


def _count(model) -> int:
    _db.session.expire_all()
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))


# init-db -----------------------------------------------------------------------------------


def test_init_db_creates_the_schema_and_can_run_again(empty_app):
    cli = empty_app.test_cli_runner()
    first = cli.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert "newest migration" in first.output
    assert cli.invoke(args=["init-db"]).exit_code == 0
    with empty_app.app_context():
        tables = set(sa.inspect(_db.engine).get_table_names())
    assert {"heroes", "runners", "tracks", "runs", "laps", "devices"} <= tables


# create-user -------------------------------------------------------------------------------


def test_create_user_makes_an_account(cli, db):
    result = cli.invoke(
        args=[
            "create-user",
            "--email",
            " Coach@Example.org ",
            "--name",
            "Coach",
            "--role",
            "admin",
            "--starting-miles",
            "12",
            "--password",
            "long enough",
        ]
    )
    assert result.exit_code == 0, result.output
    runner = db.session.scalars(sa.select(Runner)).one()
    assert (runner.email, runner.role, runner.starting_mile_count) == (
        "coach@example.org",
        "admin",
        12,
    )
    assert runner.check_password("long enough")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not-an-email", "--name", "X"], "Enter an email address"),
        (["--email", "a@example.org", "--name", ""], "name: This field is required."),
        (["--email", "a@example.org", "--name", "X" * 500], "At most 120 characters."),
    ],
)
def test_create_user_refuses_bad_input(cli, db, args, message):
    result = cli.invoke(args=["create-user", *args, "--password", "long enough"])
    assert result.exit_code != 0
    assert message in result.output
    assert _count(Runner) == 0


def test_create_user_refuses_a_short_password(cli, db):
    result = cli.invoke(
        args=["create-user", "--email", "a@example.org", "--name", "A", "--password", "short"]
    )
    assert result.exit_code != 0 and "at least 8 characters" in result.output
    assert _count(Runner) == 0


def test_create_user_refuses_a_taken_email(cli, db):
    args = ["create-user", "--email", "a@example.org", "--name", "A", "--password", "long enough"]
    assert cli.invoke(args=args).exit_code == 0
    again = cli.invoke(args=[*args[:2], "A@EXAMPLE.ORG", *args[3:]])
    assert again.exit_code != 0
    assert "Another account already uses this email." in again.output
    assert _count(Runner) == 1


# seed-demo ---------------------------------------------------------------------------------


def _demo_counts():
    return [_count(m) for m in (Runner, Track, Hero, Run)]


def test_seed_demo_loads_the_demo_and_is_idempotent(cli, db, client):
    result = cli.invoke(args=["seed-demo", "--password", "demo1234"])
    assert result.exit_code == 0, result.output
    before = _demo_counts()
    again = cli.invoke(args=["seed-demo", "--password", "demo1234"])
    assert again.exit_code == 0
    assert _demo_counts() == before

    accounts = {r.email: r for r in db.session.scalars(sa.select(Runner))}
    assert set(accounts) == {"admin@example.org", "runner@example.org"}
    assert accounts["admin@example.org"].role == "admin"
    assert accounts["runner@example.org"].role == "runner"
    laps = sorted(t.laps_per_mile for t in db.session.scalars(sa.select(Track)))
    assert laps == [4, 7]
    heroes = list(db.session.scalars(sa.select(Hero)))
    assert sorted(h.kind for h in heroes) == sorted(  # one hero of every kind
        ["police", "fire", "ems", "corrections", "dispatch", "federal", "k9"]
    )
    planned = db.session.scalars(
        sa.select(Run).where(
            Run.runner_id == accounts["runner@example.org"].id, Run.status == "planned"
        )
    ).all()
    assert sorted(run.hero.name for run in planned) == ["Jordan Avery", "Ranger"]
    for email in accounts:
        response = client.post("/login", data={"email": email, "password": "demo1234"})
        assert response.status_code == 302


def test_demo_heroes_pass_the_hero_checks(cli, db):
    cli.invoke(args=["seed-demo", "--password", "demo1234"])
    for hero in db.session.scalars(sa.select(Hero)):
        data = {
            key: getattr(hero, key)
            for key in (
                "name",
                "rank",
                "agency",
                "state",
                "kind",
                "cause",
                "story",
                "source_url",
                "fundraiser_url",
                "fundraiser_verified_by",
            )
        }
        data["end_of_watch"] = hero.end_of_watch.isoformat()
        validate_hero(data)  # raises a ValidationError naming any bad field


# import-heroes -----------------------------------------------------------------------------

HEADER = (
    "name,rank,agency,state,kind,end_of_watch,incident_date,cause,story,source_url,"
    "fundraiser_url,fundraiser_verified_by"
)
ROWS = [
    # row 2: good
    "Jordan Avery,Officer,Example County PD,FL,police,2024-02-11,2024-02-10,Gunfire,"
    "A story.,https://example.org/m/1,,",
    # row 3: good K9, kind in capitals
    "Rex,K9,Example County Sheriff,GA,K9,2023-12-01,,Gunfire,,,,",
    # row 4: bad state and bad kind
    "Casey Morgan,Firefighter,Example Fire,Florida,dragon,2024-01-05,,Collapse,,,,",
    # row 5: the same hero as row 2, in other case
    "JORDAN AVERY,Officer,example county pd,FL,police,2024-02-11,,,,,,",
    # row 6: no name
    ",Officer,Example County PD,FL,police,2024-02-11,,,,,,",
    # row 7: a fundraiser nobody checked
    "Riley Brooks,Paramedic,Example EMS,FL,ems,2024-03-03,,Crash,,,https://example.org/f,",
    # row 8: good, with a story over two lines
    'Taylor Quinn,Lieutenant,Example Fire,FL,fire,2024-04-04,,Collapse,"Line one.\nLine two.",,,',
    # row 9: one cell too many
    "Morgan Lee,Dispatcher,Example 911,FL,dispatch,2024-05-05,,Illness,,,,,extra",
    # row 10: bad date and a bad link
    "Sam Whitfield,Agent,Example Task Force,FL,federal,2024-02-30,,,,ftp://example.org,,",
]


@pytest.fixture
def heroes_csv(tmp_path):
    path = tmp_path / "heroes.csv"
    path.write_text("\ufeff" + HEADER + "\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def test_import_heroes_imports_good_rows_and_reports_bad_ones(cli, db, heroes_csv):
    result = cli.invoke(args=["import-heroes", str(heroes_csv)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "row 4: rejected: state: Use the two-letter postal code, like FL." in out
    assert "row 4: rejected: kind: Choose one of: Police, Fire, EMS" in out
    assert "row 5: skipped duplicate: JORDAN AVERY is already listed" in out
    assert "row 6: rejected: name: This field is required." in out
    assert "row 7: rejected: fundraiser_verified_by: Say who checked" in out
    assert "row 9: rejected: row: It has more cells than the header." in out
    assert "row 10: rejected: end_of_watch: Must be a date like 2024-02-11." in out
    assert "row 10: rejected: source_url: Must be an http:// or https:// link." in out
    assert "Imported 3, skipped duplicates 1, rejected 5" in out
    for good in ("row 2:", "row 3:", "row 8:"):
        assert good not in out
    heroes = {h.name: h for h in db.session.scalars(sa.select(Hero))}
    assert set(heroes) == {"Jordan Avery", "Rex", "Taylor Quinn"}
    assert heroes["Rex"].kind == "k9" and heroes["Rex"].state == "GA"
    assert heroes["Jordan Avery"].incident_date == date(2024, 2, 10)
    assert heroes["Taylor Quinn"].story == "Line one.\nLine two."


def test_import_heroes_never_imports_twice(cli, db, heroes_csv):
    cli.invoke(args=["import-heroes", str(heroes_csv)])
    again = cli.invoke(args=["import-heroes", str(heroes_csv)])
    assert again.exit_code == 0
    assert "Imported 0, skipped duplicates 4, rejected 5" in again.output
    assert "row 2: skipped duplicate: Jordan Avery is already listed" in again.output
    assert _count(Hero) == 3


def test_import_skips_heroes_added_through_the_form(cli, db, tmp_path):
    make_hero(name="Rex", agency="Example County Sheriff", end_of_watch=date(2023, 12, 1))
    db.session.commit()
    path = tmp_path / "one.csv"
    path.write_text(HEADER + "\n" + ROWS[1] + "\n", encoding="utf-8")
    result = cli.invoke(args=["import-heroes", str(path)])
    assert "Imported 0, skipped duplicates 1, rejected 0" in result.output
    assert _count(Hero) == 1


def test_import_accepts_header_in_any_case_and_order(cli, db, tmp_path):
    path = tmp_path / "shuffled.csv"
    row = dict(zip(HEADER.split(","), ROWS[0].split(","), strict=True))
    order = list(reversed(HEADER.split(",")))
    path.write_text(
        ",".join(c.upper() for c in order) + "\n" + ",".join(row[c] for c in order) + "\n",
        encoding="utf-8",
    )
    result = cli.invoke(args=["import-heroes", str(path)])
    assert "Imported 1," in result.output, result.output
    assert _count(Hero) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00garbage", "Cannot read"),
        (b"name,agency\nRex,Example\n", "lacks the column(s) state, kind, end_of_watch"),
        (b"", "lacks the column(s) name"),
    ],
)
def test_import_refuses_a_file_it_cannot_read(cli, db, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = cli.invoke(args=["import-heroes", str(path)])
    assert result.exit_code != 0
    assert message in result.output
    assert _count(Hero) == 0


def test_import_refuses_a_missing_file(cli, db, tmp_path):
    result = cli.invoke(args=["import-heroes", str(tmp_path / "nowhere.csv")])
    assert result.exit_code != 0
    assert "Cannot read" in result.output
