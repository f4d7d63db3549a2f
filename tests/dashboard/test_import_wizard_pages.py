"""The import wizard (HTTP API and page), the export menu and the calendar feed on /settings."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import bearer

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "exchange"


def upload(client, headers, name: str, data: bytes | None = None):
    body = data if data is not None else (SAMPLES / name).read_bytes()
    return client.post(
        "/api/import/jobs",
        files={"file": (name, body, "application/octet-stream")},
        headers=headers,
    )


def wait_done(client, headers, job_id: int) -> dict:
    """Poll the job as the page's fallback does, until it ends (the bound only stops a hang)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"/api/import/jobs/{job_id}", headers=headers).json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never ended: {job}")


def client_names(client, headers) -> set[str]:
    items = client.get("/api/clients?limit=100", headers=headers).json()["items"]
    return {c["display_name"] for c in items}


def test_the_wizard_flow_over_the_api_imports_an_xlsx(client, as_user):
    boss = as_user("boss", role="manager", team=None)
    r = upload(client, boss, "clients.xlsx")
    assert r.status_code == 201, r.text
    job = r.json()
    assert (job["state"], job["kind"]) == ("analysing", "xlsx")
    assert job["headers"] == ["Prenume", "Nume", "Telefon", "Email", "Oraș", "Firma", "Birthday"]
    assert job["preview"][1][:2] == ["Анна", "Петрова"]
    assert job["mapping"]["Telefon"] == "phone" and job["mapping"]["Oraș"] == "city"
    assert job["mapping_saved"] is False

    # a wrong mapping: the city column as a birthday -> the dry run names row and column
    bad = {**job["mapping"], "Oraș": "birthday", "Birthday": ""}
    r = client.put(f"/api/import/jobs/{job['id']}/mapping", json={"mapping": bad}, headers=boss)
    assert r.status_code == 200, r.text
    report = client.post(f"/api/import/jobs/{job['id']}/dry-run", headers=boss).json()
    assert report["rejected"] and report["total_rows"] == 3
    assert {(e["row"], e["column"]) for e in report["errors"]} >= {(2, "Oraș")}
    assert client_names(client, boss) == set()  # a dry run writes nothing

    # the mapping corrected; "Firma" left out
    good = {**job["mapping"], "Firma": ""}
    client.put(f"/api/import/jobs/{job['id']}/mapping", json={"mapping": good}, headers=boss)
    report = client.post(f"/api/import/jobs/{job['id']}/dry-run", headers=boss).json()
    assert (report["rejected"], report["imported"], report["error_count"]) == (False, 3, 0)

    r = client.post(f"/api/import/jobs/{job['id']}/run", headers=boss)
    assert r.status_code == 202, r.text
    done = wait_done(client, boss, job["id"])
    assert (done["state"], done["percent"], done["imported"]) == ("done", 100, 3)
    assert {"Ștefan Țurcanu", "Анна Петрова", "Ion Rusu"} <= client_names(client, boss)
    # a started job takes no more steps
    r = client.post(f"/api/import/jobs/{job['id']}/run", headers=boss)
    assert r.status_code == 422

    # the same columns again: the saved mapping is suggested; importing it twice adds nobody
    again = upload(client, boss, "clients.xlsx").json()
    assert again["mapping_saved"] is True and again["mapping"]["Firma"] == ""
    client.post(f"/api/import/jobs/{again['id']}/run", headers=boss)
    second = wait_done(client, boss, again["id"])
    assert (second["state"], second["imported"], second["skipped"]) == ("done", 0, 3)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("broken.xlsx", "xlsx"),
        ("not_a_workbook.xlsx", "not an Excel workbook"),
        ("bad_line.vcf", "line"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message(client, as_user, name, words):
    boss = as_user("boss", role="manager", team=None)
    r = upload(client, boss, name)
    if r.status_code == 201:  # refused at the dry run instead (the bad part is further in)
        r = client.post(f"/api/import/jobs/{r.json()['id']}/dry-run", headers=boss)
    assert r.status_code == 422, r.text
    assert words.lower() in r.text.lower()


def test_operators_may_not_import_and_jobs_are_private(client, as_user, users):
    boss = as_user("boss", role="manager", team=None)
    ana = as_user("ana")
    assert upload(client, ana, "clients.xlsx").status_code == 403
    job = upload(client, boss, "clients.xlsx").json()
    other = as_user("mara", role="manager", team=None)
    assert client.get(f"/api/import/jobs/{job['id']}", headers=other).status_code == 404
    root = as_user("root", role="admin", team=None)
    assert client.get(f"/api/import/jobs/{job['id']}", headers=root).status_code == 200
    del users


# --- pages -------------------------------------------------------------------------------


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str) -> None:
    client.cookies.clear()
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": f"password-{username}",
            "csrf_token": form_csrf(page.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303


@pytest.fixture
def manager(client, users):
    users.add("boss", role="manager", team=None)
    users.add("ana", role="operator")
    sign_in(client, "boss")
    return client


def test_the_import_page_shows_the_wizard_to_managers_and_403_to_operators(manager, users):
    page = manager.get("/import")
    assert page.status_code == 200
    html = page.text
    assert 'type="file"' in html and ".xlsx" in html and ".vcf" in html
    assert "<progress" in html and "/static/import.js" in html
    ru = manager.get("/import", headers={"Accept-Language": "ru"})
    assert ru.status_code == 200
    sign_in(manager, "ana")
    denied = manager.get("/import")
    assert denied.status_code == 403 and "<html" in denied.text


def test_the_export_menu_carries_the_list_filters_and_downloads_files(manager, users):
    from openpyxl import load_workbook

    headers = bearer(users, "boss")
    for name in ("Ana Pop", "Ion Rusu"):
        first, last = name.split()
        city = "Iași" if first == "Ana" else "Cluj"
        r = manager.post(
            "/api/clients",
            json={"first_name": first, "last_name": last, "addresses": [{"city": city}]},
            headers=headers,
        )
        assert r.status_code == 201, r.text
    html = manager.get("/clients?city=Ia%C8%99i").text
    links = dict(re.findall(r'href="(/api/export/clients\?[^"]+)"[^>]*data-format="(\w+)"', html))
    links = {fmt: href.replace("&amp;", "&") for href, fmt in links.items()}
    assert set(links) == {"csv", "xlsx", "ods", "xml", "html", "docx", "vcf"}
    for href in links.values():
        assert parse_qs(urlsplit(href).query)["city"] == ["Iași"]
    book = load_workbook(io.BytesIO(manager.get(links["xlsx"]).content))
    cells = [str(c) for row in book.active.iter_rows(values_only=True) for c in row if c]
    assert any("Ana" in c for c in cells) and not any("Rusu" in c for c in cells)
    vcf = manager.get(links["vcf"]).text
    assert vcf.startswith("BEGIN:VCARD") and "Pop" in vcf and "Rusu" not in vcf
    csv_text = manager.get(links["csv"]).content.decode("utf-8-sig")
    assert "Ana" in csv_text and "Rusu" not in csv_text

    tasks = manager.get("/tasks?view=today").text
    task_links = re.findall(r'href="(/api/export/tasks\?[^"]+)"', tasks)
    assert task_links and all("mine=true" in h and "today=true" in h for h in task_links)
    assert not any("vcf" in h for h in task_links)
    r = manager.get(task_links[0].replace("&amp;", "&"))
    assert r.status_code == 200


def test_the_settings_page_makes_and_revokes_the_calendar_address(manager, users):
    page = manager.get("/settings").text
    assert 'id="calendar-feed"' in page and "Google Calendar" in page
    csrf = {"X-CSRF-Token": re.search(r'data-csrf="([^"]+)"', page)[1]}
    made = manager.post("/api/calendar-feed", headers=csrf).json()
    secret_path = urlsplit(made["url"]).path
    assert manager.get(secret_path).text.startswith("BEGIN:VCALENDAR")
    assert "data-active" in manager.get("/settings").text
    assert manager.delete("/api/calendar-feed", headers=csrf).status_code == 200
    assert manager.get(secret_path).status_code == 404


def _speaks(username: str, language: str) -> None:
    from sqlalchemy import update

    from crm_core.auth.models import User
    from crm_core.database import session_scope

    with session_scope() as db:
        db.execute(update(User).where(User.username == username).values(language=language))


def test_row_errors_are_told_in_the_uploaders_language(client, as_user):
    """The report names row and column, and says the problem as its reader reads (stored in
    English: the CLI and the logs say it so)."""
    boss = as_user("boss", role="manager", team=None)
    _speaks("boss", "ro")
    rows = (
        b"Prenume,Nume,Telefon,Email\n"
        b"Ana,Popa,0722111222,ana@example.ro\n"
        b"Ion,Rusu,0722111333,not-an-email\n"
        b"Dan,Lungu,12,dan@example.ro\n"
        b"Eva,Popa,0722111222,\n"
    )
    job = upload(client, boss, "clients.csv", rows).json()
    report = client.post(f"/api/import/jobs/{job['id']}/dry-run", headers=boss).json()
    said = {(e["row"], e["column"]): e["message"] for e in report["errors"]}
    assert said == {
        (3, "Email"): "nu este o adresă de e-mail validă",
        (4, "Telefon"): "număr greșit de cifre pentru țară",
    }  # row 5 repeats row 2's number: a job skips such rows unless told otherwise
    assert (
        client.get(f"/api/import/jobs/{job['id']}", headers=boss).json()["report"]["errors"]
        == report["errors"]
    )  # the stored report, worded again when read
    _speaks("boss", "ru")
    r = client.post(
        "/api/import/clients",
        files={"file": ("clients.csv", rows, "text/csv")},
        params={"dry_run": "true"},
        headers=boss,
    )
    messages = [e["message"] for e in r.json()["errors"]]
    assert messages == [
        "это не действительный адрес e-mail",
        "неверное число цифр для страны",
        "+40722111222 есть и в строке 2",
    ]
