"""Writes the sample files of tests/data/exchange (run once; the files are kept in the repo).

The text files are written byte for byte as the programs write them; the ODS and XLSX files
are made with odfpy and openpyxl."""

from __future__ import annotations

import quopri
from pathlib import Path

HERE = Path(__file__).parent


def qp(text: str, charset: str) -> str:
    return quopri.encodestring(text.encode(charset)).decode("ascii").replace("=\n", "")


def vcard21() -> bytes:
    """An old phone's export: 2.1, quoted-printable with soft line breaks, CRLF."""
    ro = qp("Țurcanu;Ștefan;;;", "utf-8")
    ro_note = qp("Sună după ora 10, în zilele lucrătoare; cere-l pe Ștefan la telefon", "utf-8")
    note_lines = [ro_note[i : i + 70] for i in range(0, len(ro_note), 70)]
    ru = qp("Петрова;Анна;Сергеевна;;", "cp1251")
    lines = [
        "BEGIN:VCARD",
        "VERSION:2.1",
        f"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{ro}",
        "TEL;CELL:0721 234 567",
        "TEL;HOME;VOICE:021 312 4567",
        "ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:" + qp("Brutăria Țării SRL", "utf-8"),
        "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:" + "=\r\n".join(note_lines),
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:2.1",
        f"N;CHARSET=WINDOWS-1251;ENCODING=QUOTED-PRINTABLE:{ru}",
        "TEL;CELL;PREF:+7 912 345-67-89",
        "EMAIL;INTERNET:anna.petrova@example.ru",
        "END:VCARD",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


VCARD30 = """BEGIN:VCARD
VERSION:3.0
N:Rusu;Ion;;;
FN:Ion Rusu
ORG:Vinăria Purcari\\, SA;Vânzări
TITLE:Director de vânzări
TEL;TYPE=WORK,VOICE:+373 22 123 456
TEL;TYPE=CELL:+373 69 123 456
EMAIL;TYPE=INTERNET,WORK:ion.rusu@example.md
ADR;TYPE=WORK:;;Str. Ștefan cel Mare 1;Chișinău;;MD-2001;Moldova
BDAY:1980-05-17
NOTE:Prefers calls in the morning\\, never on Friday. This note is long enough to be folded
  onto a second line by the program that wrote it.
CATEGORIES:wine,vip
END:VCARD
BEGIN:VCARD
VERSION:3.0
N:Смирнов;Дмитрий;Иванович;;
FN:Дмитрий Смирнов
TEL;TYPE=HOME:+7 495 123-45-67
EMAIL:d.smirnov@example.ru
ADR;TYPE=HOME:;;ул. Тверская\\, 7;Москва;;125009;Россия
END:VCARD
"""

VCARD40 = """BEGIN:VCARD
VERSION:4.0
FN:Mărioara Căpățână
N:Căpățână;Mărioara;;;
TEL;VALUE=uri;TYPE="cell,voice":tel:+40-722-000-111
EMAIL;TYPE=home:marioara@example.ro
BDAY:19750301
ADR;TYPE=home:;;Bd. Carol I 11;Iași;IS;700506;RO
END:VCARD
BEGIN:VCARD
VERSION:4.0
KIND:org
FN:Transilvania Logistic SRL
ORG:Transilvania Logistic SRL
TEL;VALUE=uri;TYPE=work:tel:+40-264-123-456
EMAIL;TYPE=work:office@transilvania.example.ro
END:VCARD
"""

GOOGLE = (
    "First Name,Middle Name,Last Name,Organization Name,Organization Title,Birthday,Notes,"
    "Labels,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,"
    "Phone 2 - Label,Phone 2 - Value,Address 1 - Label,Address 1 - Street,Address 1 - City,"
    "Address 1 - Region,Address 1 - Postal Code,Address 1 - Country\n"
    "Ana,,Ionescu,Cafeneaua Veche SRL,Manager,1990-07-21,Clientă fidelă,"
    "* myContacts ::: Cafea,* Work,ana@cafeneaua.example.ro,Mobile,"
    "0723 456 789 ::: 0744 111 222,Work,021 300 4000,Work,Str. Lipscani 5,București,,"
    "030031,Romania\n"
    "Ольга,,Кузнецова,,,--04-12,,* myContacts,Home,olga@example.ru,Mobile,+7 916 555-44-33,"
    ",,,,Санкт-Петербург,,,Россия\n"
)

OUTLOOK = (
    '"Title","First Name","Middle Name","Last Name","Suffix","Company","Department",'
    '"Job Title","Business Street","Business City","Business State","Business Postal Code",'
    '"Business Country/Region","Home Street","Home City","Business Fax","Business Phone",'
    '"Home Phone","Mobile Phone","Birthday","Categories","E-mail Address","E-mail 2 Address",'
    '"Notes"\r\n'
    '"","George","","Enescu","","Filarmonica Moldova","","Dirijor","Str. Sf. Sava 3","Iași",'
    '"","700001","Romania","","","0232 211 999","0232 211 998","","0745 987 654","8/19/1981",'
    '"Muzică;VIP","george.enescu@example.ro","","Sună dimineața"\r\n'
    '"","Людмила","","Орлова","","","","","","","","","","ул. Ленина 1","Казань","","",'
    '"+7 843 222-33-44","+7 917 111-22-33","0/0/00","","orlova@example.ru","","" \r\n'
)

LEGACY_RO = (
    "Prenume;Nume;Telefon;Oraş;Data naşterii\n"
    "Ştefan;Ţurcanu;0721 234 567;Iaşi;14.03.1985\n"
    "Mărioara;Căpăţână;0722 000 111;Bârlad;01.12.1979\n"
)
LEGACY_RU = (
    "Имя;Фамилия;Телефон;Город;Дата рождения\n"
    "Анна;Петрова;+7 912 345-67-89;Москва;14.03.1985\n"
    "Сергей;Иванов;+7 912 765-43-21;Новосибирск;01.12.1979\n"
    "Жанна;Щукина;+7 921 000-11-22;Санкт-Петербург;\n"
)

SHEET = [
    ["Prenume", "Nume", "Telefon", "Email", "Oraș", "Firma", "Birthday"],
    ["Ștefan", "Țurcanu", "0721 234 567", "stefan@example.ro", "Iași", "Brutăria SRL", None],
    ["Анна", "Петрова", "+7 912 345 67 89", "anna@example.ru", "Москва", "", None],
    ["Ion", "Rusu", "+373 69 123 456", "ion@example.md", "Chișinău", "Brutăria SRL", None],
]


def write_xlsx(path: Path) -> None:
    from datetime import date

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in SHEET:
        sheet.append(row)
    sheet["G2"] = date(1985, 3, 14)
    book.save(path)


def write_ods(path: Path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Clienți")
    for r, row in enumerate(SHEET):
        tr = TableRow()
        for c, value in enumerate(row):
            if r == 1 and c == 6:
                cell = TableCell(valuetype="date", datevalue="1985-03-14")
                cell.addElement(P(text="14.03.1985"))
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value or ""))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))


def main() -> None:
    (HERE / "phone_2_1_qp.vcf").write_bytes(vcard21())
    (HERE / "contacts_3_0.vcf").write_bytes(VCARD30.replace("\n", "\r\n").encode("utf-8"))
    (HERE / "contacts_4_0.vcf").write_bytes(VCARD40.encode("utf-8"))
    (HERE / "google_contacts.csv").write_bytes(GOOGLE.encode("utf-8"))
    (HERE / "outlook_contacts.csv").write_bytes(
        OUTLOOK.encode("cp1252", errors="strict") if False else OUTLOOK.encode("utf-8-sig")
    )
    (HERE / "clients_cp1250.csv").write_bytes(LEGACY_RO.replace("\n", "\r\n").encode("cp1250"))
    (HERE / "clients_cp1251.csv").write_bytes(LEGACY_RU.replace("\n", "\r\n").encode("cp1251"))
    (HERE / "clients_koi8r.csv").write_bytes(LEGACY_RU.encode("koi8_r"))
    (HERE / "clients_utf8_bom.csv").write_bytes(
        "\n".join(",".join(c or "" for c in row[:6]) for row in SHEET).encode("utf-8-sig")
    )
    write_xlsx(HERE / "clients.xlsx")
    write_ods(HERE / "clients.ods")
    (HERE / "broken.xlsx").write_bytes((HERE / "clients.xlsx").read_bytes()[:900])
    (HERE / "not_a_workbook.xlsx").write_bytes(b"Name,Phone\nIon,0721234567\n")
    (HERE / "bad_line.vcf").write_bytes(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Pop;Ana;;;\r\nTEL:0723 999 888\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Ionescu;Dan;;;\r\nthis line is not a property\r\n"
        b"END:VCARD\r\n"
    )


if __name__ == "__main__":
    main()
