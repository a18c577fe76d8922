"""`arrears backup` / `arrears restore`: a backup is only as good as a restore into a fresh database."""

import io
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from arrears.api.backup import backup, restore
from arrears.core.errors import DomainError
from arrears.ledger import services
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = b"%PDF-1.4 court receipt \xe6\xb3\x95\xe9\x99\xa2"


@pytest.fixture
def company(settings, tmp_path):
    """A payment of ¥1,234.56 and an uploaded proof: what a restore must bring back exactly."""
    settings.MEDIA_ROOT = tmp_path / "media"
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=Decimal("1234.56"), paid_on=date(2026, 6, 1),
                            method="cash")
    proof = settings.MEDIA_ROOT / "legal" / "2026" / "回执.pdf"
    proof.parent.mkdir(parents=True)
    proof.write_bytes(EVIDENCE)
    return tmp_path


def _restore_elsewhere(archive: Path, data_dir: Path, database_url: str, *extra) -> subprocess.CompletedProcess:
    env = {**os.environ, "ARREARS_DATA_DIR": str(data_dir), "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "arrears.cli", "restore", str(archive), *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _rewrite(archive: Path, change) -> Path:
    """A copy of the archive with each member passed through `change(name, data) -> (name, data)`."""
    altered = archive.with_name("altered.tar")
    with tarfile.open(archive) as source, tarfile.open(altered, "w") as target:
        for member in source.getmembers():
            name, data = change(member.name, source.extractfile(member).read())
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return altered


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite path")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
def test_a_sqlite_backup_restores_into_a_fresh_database_with_its_files(company):
    # given a backup of the running database
    archive = backup(company / "backups")
    assert archive.name.startswith("arrears-backup-") and archive.suffix == ".tar"
    # when it is restored into a new data folder with an empty database
    fresh = company / "fresh"
    result = _restore_elsewhere(archive, fresh, f"sqlite:///{fresh / 'db.sqlite3'}")
    # then the payment and the uploaded proof are there, to the fen and the byte
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(fresh / "db.sqlite3") as db:
        assert db.execute("SELECT CAST(amount AS TEXT), paid_on FROM ledger_payment").fetchall() == [("1234.56", "2026-06-01")]
        assert db.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 50
    assert (fresh / "media" / "legal" / "2026" / "回执.pdf").read_bytes() == EVIDENCE
    # and a second restore over it is refused: a restore never writes into a database in use
    again = _restore_elsewhere(archive, fresh, f"sqlite:///{fresh / 'db.sqlite3'}")
    assert again.returncode != 0 and "not empty" in again.stderr


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump and pg_restore")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
def test_a_postgresql_backup_restores_into_a_fresh_database_with_its_files(company):
    archive = backup(company / "backups")
    settings = connection.settings_dict
    name = f"restore_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
                            dbname="postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT'] or 5432}/{name}"
        result = _restore_elsewhere(archive, company / "fresh", url)
        assert result.returncode == 0, result.stderr
        with psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname=name) as db:
            rows = db.execute("SELECT amount::text, paid_on::text FROM ledger_payment").fetchall()
            assert rows == [("1234.56", "2026-06-01")]
            # the append-only triggers came back with the tables
            assert db.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'ledger_payment_append_only'").fetchone()[0] == 1
        assert (company / "fresh" / "media" / "legal" / "2026" / "回执.pdf").read_bytes() == EVIDENCE
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
def test_a_damaged_archive_is_refused_before_anything_is_written(company):
    archive = backup(company / "backups")
    database = next(n for n in tarfile.open(archive).getnames() if n.startswith("database."))

    def flip(name, data):
        return name, (data[:-1] + bytes([data[-1] ^ 1]) if name == database else data)

    with pytest.raises(DomainError) as error:
        restore(_rewrite(archive, flip))
    assert error.value.code == "checksum"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
@pytest.mark.parametrize("hostile", ["../../etc/cron.d/x", "/etc/passwd", "media/../../x"])
def test_an_archive_with_a_path_outside_its_folder_is_refused(company, hostile):
    archive = backup(company / "backups")

    def escape(name, data):
        return (hostile if name.startswith("media/") else name), data

    with pytest.raises(DomainError) as error:
        restore(_rewrite(archive, escape))
    assert error.value.code == "archive"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
def test_check_only_verifies_and_writes_nothing(company):
    archive = backup(company / "backups")
    done = restore(archive, check_only=True)
    assert (done.vendor, done.files) == (connection.vendor, 1)
    with pytest.raises(DomainError) as error:
        restore(archive)  # the test database is not empty
    assert error.value.code == "not_empty"


def test_something_that_is_not_an_archive_is_refused(tmp_path):
    junk = tmp_path / "x.tar"
    junk.write_bytes(b"not a tar")
    with pytest.raises(DomainError) as error:
        restore(junk)
    assert error.value.code == "archive"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
def test_the_commands_back_up_into_the_data_folder_and_verify(company, settings, capsys):
    from django.core.management import call_command

    settings.DATA_DIR = company / "data"
    call_command("backup")
    archive = Path(capsys.readouterr().out.strip())
    assert archive.parent == company / "data" / "backups" and archive.exists()
    call_command("restore", str(archive), "--check")
    assert "verified" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
def test_the_backup_is_readable_by_its_owner_only(company):
    # it holds owners' personal data and every evidence file
    archive = backup(company / "backups" / "nightly")
    assert (archive.parent.stat().st_mode & 0o777) == 0o700
    assert (archive.stat().st_mode & 0o777) == 0o600


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
def test_a_python_without_the_data_filter_still_verifies(company, monkeypatch):
    # Debian 12's Python 3.11.2 has no tarfile.data_filter (3.11.4 added it): `restore --check` failed there
    archive = backup(company / "backups")
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    done = restore(archive, check_only=True)
    assert done.files == 1
