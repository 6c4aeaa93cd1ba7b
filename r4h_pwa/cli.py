"""Command-line tools: init-db, seed-demo, create-user, import-heroes, reset-2fa, backup,
restore."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from . import backup as backups
from .admin import service as admin_service
from .admin.hero_csv import CsvProblem, HeroCsv, read_hero_csv
from .audit import CLI, act_as
from .auth import twofactor
from .extensions import db
from .models import ROLES, Hero, Run, Runner, Track
from .validation import ValidationError


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the schema by running every migration."""
    upgrade()
    click.echo("Database is at the newest migration.")


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), default="runner", show_default=True)
@click.option("--starting-miles", type=click.IntRange(0, 100_000), default=0, show_default=True)
@click.option(
    "--runs/--does-not-run",
    "runs_miles",
    default=None,
    help="Whether the account runs miles (default: a runner does, an admin does not).",
)
@click.password_option()
def create_user_command(
    email: str, name: str, role: str, starting_miles: int, runs_miles: bool | None, password: str
):
    """Create an account (admin or runner)."""
    act_as(CLI)
    try:
        values = admin_service.validate_runner(
            {
                "name": name,
                "email": email,
                "role": role,
                "is_active_account": True,
                "runs_miles": role == "runner" if runs_miles is None else runs_miles,
                "starting_mile_count": starting_miles,
                "password": password,
            },
            runner=None,
            acting=None,
        )
    except ValidationError as exc:
        raise click.ClickException(" ".join(f"{k}: {v}" for k, v in exc.fields.items())) from None
    admin_service.save_runner(None, values)
    db.session.commit()
    click.echo(f"Created {role} {values['email']}.")


DEMO_HEROES = [
    # Clearly fictional: every agency is in the made-up "Example County".
    (
        "Officer",
        "Jordan Avery",
        "Example County Police Department",
        "FL",
        "police",
        -20,
        "Struck by a vehicle during a traffic stop",
    ),
    (
        "Firefighter",
        "Casey Morgan",
        "Example County Fire Rescue",
        "FL",
        "fire",
        -34,
        "Structure collapse",
    ),
    ("Paramedic", "Riley Brooks", "Example County EMS", "FL", "ems", -41, "Vehicle crash"),
    (
        "Corrections Officer",
        "Taylor Quinn",
        "Example County Jail",
        "FL",
        "corrections",
        -55,
        "Assault",
    ),
    (
        "Dispatcher",
        "Morgan Lee",
        "Example County 911 Center",
        "FL",
        "dispatch",
        -70,
        "Duty-related illness",
    ),
    ("K9", "Ranger", "Example County Sheriff's Office", "FL", "k9", -12, "Gunfire"),
    (
        "Special Agent",
        "Sam Whitfield",
        "Example Federal Task Force",
        "FL",
        "federal",
        -90,
        "Gunfire",
    ),
]


@click.command("seed-demo")
@with_appcontext
@click.option("--password", required=True, help="Password for both demo accounts.")
def seed_demo_command(password: str) -> None:
    """Load clearly fictional demo data: two accounts, two tracks, heroes, planned runs."""
    act_as(CLI)
    if db.session.scalar(sa.select(Runner).where(Runner.email == "admin@example.org")):
        click.echo("Demo data is already loaded.")
        return
    admin = Runner(email="admin@example.org", name="Demo Admin", role="admin")
    runner = Runner(
        email="runner@example.org", name="Demo Runner", role="runner", starting_mile_count=1293
    )
    for account in (admin, runner):
        account.set_password(password)
    school = Track(name="Example Middle School track", laps_per_mile=7, min_lap_seconds=40)
    standard = Track(name="Example High 400 m track", laps_per_mile=4, min_lap_seconds=50)
    today = date.today()
    heroes = [
        Hero(
            rank=rank,
            name=name,
            agency=agency,
            state=state,
            kind=kind,
            end_of_watch=today + timedelta(days=days),
            cause=cause,
            story=f"{rank} {name} served Example County with courage. (Demo data.)",
        )
        for rank, name, agency, state, kind, days, cause in DEMO_HEROES
    ]
    heroes[0].fundraiser_url = "https://example.org/fund/avery"
    heroes[0].fundraiser_verified_by = "Demo Admin"
    db.session.add_all([admin, runner, school, standard, *heroes])
    tomorrow = datetime.now(UTC).replace(hour=23, minute=0, second=0, microsecond=0)
    db.session.add_all(
        [
            Run(
                hero=heroes[0],
                runner=runner,
                track=school,
                scheduled_at=tomorrow + timedelta(days=1),
                words="Tonight we run for Officer Avery, who kept our streets safe.",
                video_url="https://example.org/video/avery",
            ),
            Run(
                hero=heroes[5],
                runner=runner,
                track=standard,
                scheduled_at=tomorrow + timedelta(days=3),
                words="K9 Ranger never stopped working for his partner.",
            ),
        ]
    )
    db.session.commit()
    click.echo("Loaded demo data: admin@example.org and runner@example.org.")


def _read_hero_rows(path: Path) -> HeroCsv:
    """The CSV's heroes, whatever the header calls each field; ClickException if unreadable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"Cannot read {path}: {exc}") from exc
    try:
        read = read_hero_csv(text)
    except CsvProblem as exc:
        raise click.ClickException(f"{path}: {exc.message}") from exc
    if read.ignored_columns:
        click.echo(f"Ignoring unknown column(s): {', '.join(read.ignored_columns)}")
    return read


@click.command("import-heroes")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_heroes_command(file: Path) -> None:
    """Import heroes from a CSV file, reporting each rejected row; never imports one twice."""
    act_as(CLI)
    rows = _read_hero_rows(file).rows
    report = admin_service.import_heroes(rows)
    db.session.commit()
    lines = [
        (row, f"row {row}: rejected: {field_name}: {reason}")
        for row, errors in report.rejected
        for field_name, reason in errors.items()
    ]
    lines += [
        (row, f"row {row}: skipped duplicate: {name} is already listed")
        for row, name in report.duplicates
    ]
    for _row, line in sorted(lines, key=lambda item: item[0]):
        click.echo(line)
    click.echo(
        f"Imported {len(report.imported)}, skipped duplicates {len(report.duplicates)}, "
        f"rejected {len(report.rejected)} (of {len(rows)} rows; row 1 is the header)."
    )


@click.command("reset-2fa")
@with_appcontext
@click.option("--email", required=True, help="The account whose second factor to remove.")
def reset_2fa_command(email: str) -> None:
    """Remove an account's two-factor sign-in (lost phone and codes); it sets it up anew."""
    act_as(CLI)
    runner = db.session.scalar(sa.select(Runner).where(Runner.email == email.strip().lower()))
    if runner is None:
        raise click.ClickException(f"No account has the email {email}.")
    twofactor.reset(runner)
    db.session.commit()
    click.echo(
        f"Two-factor sign-in is off for {runner.email}; every session and device is signed "
        "out. An admin sets it up again at the next sign-in."
    )


@click.command("backup")
@with_appcontext
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup_command(directory: Path) -> None:
    """Write a consistent backup (photos included) under DIRECTORY; prune by BACKUP_KEEP*."""
    try:
        made = backups.take_backup(db.engine.url, directory)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(t["rows"] for t in made.manifest["tables"].values())
    click.echo(f"Backed up {len(made.manifest['tables'])} tables ({rows} rows) to {made.path}.")
    pruned = backups.prune(
        directory, current_app.config["BACKUP_KEEP"], current_app.config["BACKUP_KEEP_DAYS"]
    )
    for path in pruned:
        click.echo(f"Pruned old backup {path.name}.")


@click.command("restore")
@with_appcontext
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def restore_command(directory: Path) -> None:
    """Restore a backup (DIRECTORY, or the newest under it) into an EMPTY database."""
    try:
        found = backups.find_backup(directory)
        restored = backups.restore(db.engine.url, found)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(t["rows"] for t in restored.values())
    click.echo(
        f"Restored {found.path.name} (taken {found.manifest['taken_at']}): {len(restored)} "
        f"tables, {rows} rows, each matching its row count and content hash."
    )


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    for command in (
        init_db_command,
        create_user_command,
        seed_demo_command,
        import_heroes_command,
        reset_2fa_command,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)
