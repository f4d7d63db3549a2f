"""Importing the files people bring: vCard 2.1/3.0/4.0, Google and Outlook CSV, legacy
encodings, XLSX and ODS; duplicates sure and likely; broken files; resumable jobs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm_core.auth.principal import SYSTEM
from crm_core.errors import Invalid
from tests.factories import add_client

DATA = Path(__file__).resolve().parent.parent / "data" / "exchange"


def run_import(name: str, **options):
    from crm_core.database import session_scope
    from crm_core.exchange.service import import_clients

    options.setdefault("duplicates", "skip")
    with session_scope() as db:
        return import_clients(db, SYSTEM, DATA / name, filename=name, **options)


def clients() -> dict[str, dict]:
    """display name -> phones (E.164 with kind), e-mails, city, organization name, birthday."""
    from crm_core.clients.models import Client
    from crm_core.database import session_scope

    with session_scope() as db:
        out = {}
        for c in db.scalars(select(Client).order_by(Client.id)):
            out[c.display_name] = {
                "kind": c.kind,
                "first": c.first_name,
                "last": c.last_name,
                "phones": [(p.kind, p.e164) for p in c.phones],
                "emails": [e.address for e in c.emails],
                "city": c.addresses[0].city if c.addresses else "",
                "country": c.addresses[0].country if c.addresses else "",
                "org": c.organization.org_name if c.organization else "",
                "birthday": c.birthday.isoformat() if c.birthday else "",
                "tags": sorted(t.tag for t in c.tags),
            }
        return out


def count() -> int:
    from crm_core.clients.models import Client
    from crm_core.database import session_scope

    with session_scope() as db:
        return db.scalar(select(func.count(Client.id)))


def test_old_phone_vcard_2_1_quoted_printable(database):
    report = run_import("phone_2_1_qp.vcf")
    assert (report.kind, report.imported, report.error_count) == ("vcard", 2, 0)
    seen = clients()
    stefan = seen["Ștefan Țurcanu"]
    assert stefan["phones"] == [("mobile", "+40721234567"), ("home", "+40213124567")]
    assert stefan["org"] == "Brutăria Țării SRL"
    assert seen["Brutăria Țării SRL"]["kind"] == "organization"
    anna = seen["Анна Сергеевна Петрова"]  # Windows-1251 quoted-printable
    assert (anna["first"], anna["last"]) == ("Анна", "Петрова")
    assert anna["phones"] == [("mobile", "+79123456789")]


def test_vcard_3_0_and_4_0(database):
    assert run_import("contacts_3_0.vcf").imported == 2
    assert run_import("contacts_4_0.vcf").imported == 2
    seen = clients()
    ion = seen["Ion Rusu"]
    assert ion["org"] == "Vinăria Purcari, SA"  # escaped comma, folded note
    assert ion["phones"] == [("mobile", "+37369123456"), ("work", "+37322123456")]
    assert (ion["city"], ion["country"], ion["birthday"]) == ("Chișinău", "MD", "1980-05-17")
    assert ion["tags"] == ["vip", "wine"]
    assert seen["Дмитрий Иванович Смирнов"]["country"] == "RU"
    assert seen["Mărioara Căpățână"]["phones"] == [("mobile", "+40722000111")]
    assert seen["Mărioara Căpățână"]["birthday"] == "1975-03-01"
    assert seen["Transilvania Logistic SRL"]["kind"] == "organization"


def test_google_contacts_csv_needs_no_mapping(database):
    report = run_import("google_contacts.csv")
    assert (report.kind, report.imported, report.error_count) == ("google", 2, 0)
    ana = clients()["Ana Ionescu"]
    assert ana["phones"] == [
        ("mobile", "+40723456789"),
        ("mobile", "+40744111222"),
        ("work", "+40213004000"),
    ]
    assert ana["org"] == "Cafeneaua Veche SRL" and ana["tags"] == ["Cafea"]
    assert clients()["Ольга Кузнецова"]["city"] == "Санкт-Петербург"


def test_outlook_csv_types_its_phones(database):
    report = run_import("outlook_contacts.csv")
    assert (report.kind, report.imported, report.error_count) == ("outlook", 2, 0)
    george = clients()["George Enescu"]
    assert george["phones"] == [
        ("mobile", "+40745987654"),
        ("work", "+40232211998"),
        ("fax", "+40232211999"),
    ]
    assert george["org"] == "Filarmonica Moldova"
    assert george["birthday"] == "1981-08-19"  # m/d/yyyy as Outlook writes it
    assert clients()["Людмила Орлова"]["phones"][1] == ("home", "+78432223344")


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("clients_cp1250.csv", "CP1250"),
        ("clients_cp1251.csv", "CP1251"),
        ("clients_koi8r.csv", "KOI8-R"),
        ("clients_utf8_bom.csv", "UTF-8"),
    ],
)
def test_encodings_are_sniffed_and_names_kept_exactly(database, name, encoding):
    report = run_import(name)
    assert report.details["encoding"] == encoding
    assert report.error_count == 0, report.errors
    seen = clients()
    if "cp1250" in name:
        assert seen["Ştefan Ţurcanu"]["birthday"] == "1985-03-14"  # dd.mm.yyyy
        assert seen["Mărioara Căpăţână"]["city"] == "Bârlad"
    elif "utf8" in name:
        assert seen["Ștefan Țurcanu"]["org"] == "Brutăria SRL"
    else:
        assert seen["Анна Петрова"]["phones"] == [("mobile", "+79123456789")]
        assert seen["Сергей Иванов"]["phones"] == [("mobile", "+79127654321")]
        assert seen["Жанна Щукина"]["city"] == "Санкт-Петербург"


@pytest.mark.parametrize("name", ["clients.xlsx", "clients.ods"])
def test_spreadsheets_create_one_organization_per_company(database, name):
    report = run_import(name)
    assert (report.imported, report.error_count) == (3, 0)
    seen = clients()
    assert seen["Ștefan Țurcanu"]["birthday"] == "1985-03-14"
    assert seen["Ștefan Țurcanu"]["org"] == seen["Ion Rusu"]["org"] == "Brutăria SRL"
    assert [n for n, c in seen.items() if c["kind"] == "organization"] == ["Brutăria SRL"]
    assert seen["Анна Петрова"]["phones"] == [("mobile", "+79123456789")]


@pytest.mark.parametrize(
    "name", ["clients.xlsx", "phone_2_1_qp.vcf", "google_contacts.csv", "clients_koi8r.csv"]
)
def test_importing_the_same_file_twice_adds_nobody(database, name):
    first = run_import(name)
    before = count()
    again = run_import(name)
    assert count() == before and again.imported == 0
    assert again.skipped == first.imported


def test_same_name_and_city_without_phone_is_a_duplicate(database):
    from crm_core.database import session_scope
    from crm_core.exchange.service import import_clients

    data = "Prenume,Nume,Oraș\nIon,Vasile,Cluj\n".encode()
    with session_scope() as db:
        assert import_clients(db, SYSTEM, data, filename="a.csv").imported == 1
    with session_scope() as db:
        again = import_clients(db, SYSTEM, data, filename="a.csv")
    assert again.rejected and "the same name and city" in again.errors[0].message
    assert count() == 1


def test_likely_duplicates_are_reported_never_merged(database):
    from crm_core.database import session_scope
    from crm_core.exchange.service import import_clients

    add_client("Ștefan Țurcanu", phone="0744 000 001", addresses=[{"city": "Iași"}])
    data = (
        "Prenume,Nume,Telefon,Oraș\n"
        "Stefan,Turcanu,0744 000 002,Iași\n"
        "Ana,Pop,0744 000 003,Iași\n"
        "Ana,Popp,0744 000 004,Iași\n"
    ).encode()
    with session_scope() as db:
        report = import_clients(db, SYSTEM, data, filename="x.csv")
    assert report.imported == 3 and count() == 4  # nobody merged
    found = {(d.row, d.match_name, d.client_id, d.other_row) for d in report.likely_duplicates}
    assert (2, "Ștefan Țurcanu", 1, None) in found
    assert (4, "Ana Pop", None, 3) in found


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("bad_line.vcf", "line 9"),
        ("broken.xlsx", "not a readable XLSX"),
        ("not_a_workbook.xlsx", "not an Excel workbook"),
    ],
)
def test_broken_files_are_reported_and_nothing_is_written(database, name, where):
    with pytest.raises(Invalid) as caught:
        run_import(name)
    assert where in caught.value.message
    assert count() == 0


def test_bad_bytes_in_the_middle_name_the_line(database):
    from crm_core.database import session_scope
    from crm_core.exchange.service import import_clients

    good = "".join(f"Ion{i},Pop,07{i:08d}\n" for i in range(3000))
    data = ("Prenume,Nume,Telefon\n" + good).encode() + b"Bad\xff\xfe,Row,0721000000\n"
    with pytest.raises(Invalid) as caught, session_scope() as db:
        import_clients(db, SYSTEM, data, filename="big.csv")
    assert "line 3002" in caught.value.message
    assert count() == 0


def big_csv(path: Path, rows: int) -> Path:
    lines = ["Prenume,Nume,Telefon,Email,Oraș"]
    lines += [f"Ion{i},Țurcanu,07{20000000 + i},ion{i}@example.ro,Iași" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_job_resumed_after_a_restart_finishes_without_duplicates(database, tmp_path):
    from crm_core.database import session_scope
    from crm_core.exchange import jobs
    from crm_core.exchange.models import ImportJob

    path = big_csv(tmp_path / "big.csv", 5000)
    stored = jobs.store_upload(iter([path.read_bytes()]), "big.csv")
    with session_scope() as db:
        job_id = jobs.create_job(db, SYSTEM, stored, "big.csv").id
    assert jobs.run_job(job_id, stop_after_batches=1) == "importing"  # the process "dies"
    assert count() == 2000
    with session_scope() as db:
        job = db.get(ImportJob, job_id)
        assert (job.last_row, job.imported, job.total_rows) == (2001, 2000, 5000)
        job.updated_at = job.updated_at.replace(year=2000)  # long untouched: stale
    resumed = []
    assert jobs.resume_unfinished(runner=lambda i: resumed.append(jobs.run_job(i))) == [job_id]
    assert resumed == ["done"] and count() == 5000
    with session_scope() as db:
        job = db.get(ImportJob, job_id)
        assert (job.state, job.imported, job.done_rows) == ("done", 5000, 5000)
    shutil.copy(path, tmp_path / "again.csv")
    with session_scope() as db:
        again = jobs.create_job(db, SYSTEM, tmp_path / "again.csv", "again.csv").id
    assert jobs.run_job(again) == "done" and count() == 5000


def test_a_job_with_bad_rows_writes_nothing(database, tmp_path):
    from crm_core.database import session_scope
    from crm_core.exchange import jobs
    from crm_core.exchange.models import ImportJob

    path = big_csv(tmp_path / "big.csv", 4500)
    with path.open("a", encoding="utf-8") as out:
        out.write("Ana,Pop,12,ana@example.ro,Iași\n")
    with session_scope() as db:
        job_id = jobs.create_job(db, SYSTEM, path, "big.csv").id
    assert jobs.run_job(job_id) == "failed"
    assert count() == 0
    with session_scope() as db:
        job = db.get(ImportJob, job_id)
        assert job.report["errors"][0]["row"] == 4502
        assert job.report["errors"][0]["column"] == "Telefon"
