"""The words the shipped print forms use, per language (the forms themselves are per kind).

An admin who replaces a template may write their own words instead; these are what the
shipped forms print and what a replacement may reach as ``L.<key>``."""

from __future__ import annotations

TITLES = {
    "invoice": {"en": "Invoice", "ro": "Factură fiscală", "ru": "Счёт на оплату"},
    "proforma": {"en": "Proforma invoice", "ro": "Factură proformă", "ru": "Счёт-проформа"},
    "credit_note": {
        "en": "Credit note",
        "ro": "Factură de stornare",
        "ru": "Корректировочный счёт",
    },
    "contract": {"en": "Contract", "ro": "Contract de prestări servicii", "ru": "Договор"},
    "act": {
        "en": "Certificate of completed work",
        "ro": "Proces-verbal de recepție a serviciilor",
        "ru": "Акт выполненных работ",
    },
    "order_confirmation": {
        "en": "Order confirmation",
        "ro": "Confirmare de comandă",
        "ru": "Подтверждение заказа",
    },
}

_LABELS: dict[str, tuple[str, str, str]] = {
    # key: (en, ro, ru)
    "number": ("No.", "Nr.", "№"),
    "series": ("Series", "Seria", "Серия"),
    "dated": ("dated", "din", "от"),
    "issue_date": ("Date of issue", "Data emiterii", "Дата"),
    "due_date": ("Due date", "Data scadenței", "Оплатить до"),
    "valid_until": ("Valid until", "Valabil până la", "Действует до"),
    "seller": ("Supplier", "Furnizor", "Поставщик"),
    "buyer": ("Customer", "Cumpărător", "Покупатель"),
    "contractor": ("Contractor", "Prestator", "Исполнитель"),
    "customer": ("Client", "Beneficiar", "Заказчик"),
    "tax_id": ("VAT / Tax ID", "CUI", "ИНН"),
    "kpp": ("", "", "КПП"),
    "registration_no": ("Company reg. no.", "Nr. Reg. Com.", "ОГРН"),
    "address": ("Address", "Sediul", "Адрес"),
    "bank": ("Bank", "Banca", "Банк"),
    "account": ("IBAN", "IBAN", "р/с"),
    "bank_code": ("BIC / SWIFT", "BIC", "БИК"),
    "correspondent_account": ("", "", "к/с"),
    "phone": ("Phone", "Tel.", "Тел."),
    "email": ("E-mail", "E-mail", "E-mail"),
    "recipient_bank": ("Beneficiary's bank", "Banca beneficiarului", "Банк получателя"),
    "recipient": ("Beneficiary", "Beneficiar", "Получатель"),
    "col_no": ("#", "Nr. crt.", "№"),
    "col_description": (
        "Description",
        "Denumirea produselor sau a serviciilor",
        "Товары (работы, услуги)",
    ),
    "col_unit": ("Unit", "U.M.", "Ед."),
    "col_quantity": ("Qty", "Cant.", "Кол-во"),
    "col_price": ("Unit price", "Preț unitar (fără TVA)", "Цена"),
    "col_discount": ("Discount", "Reducere", "Скидка"),
    "col_vat_rate": ("VAT rate", "Cota TVA", "Ставка НДС"),
    "col_net": ("Net amount", "Valoarea", "Сумма без НДС"),
    "col_vat": ("VAT", "Valoarea TVA", "НДС"),
    "col_gross": ("Total", "Total", "Сумма"),
    "net_total": ("Total excluding VAT", "Total fără TVA", "Итого без НДС"),
    "vat_total": ("VAT", "TVA", "В том числе НДС"),
    "vat_at": ("VAT at", "TVA", "НДС"),
    "total": ("Total due", "Total de plată", "Всего к оплате"),
    "paid": ("Paid", "Achitat", "Оплачено"),
    "balance": ("Balance due", "Rest de plată", "Остаток к оплате"),
    "in_words": ("Amount in words", "Suma în litere", "Сумма прописью"),
    "no_vat": ("Not VAT registered", "Neplătitor de TVA", "Без НДС"),
    "reference": ("Reference", "Referință", "Основание"),
    "notes": ("Notes", "Mențiuni", "Примечание"),
    "director": ("Director", "Administrator", "Руководитель"),
    "accountant": ("Accountant", "Contabil", "Бухгалтер"),
    "signature": ("Signature", "Semnătura", "Подпись"),
    "seller_signature": (
        "Supplier's signature",
        "Semnătura și ștampila furnizorului",
        "Подпись и печать поставщика",
    ),
    "buyer_signature": ("Received by", "Semnătura de primire", "Товар (услуги) получил"),
    "items_count": (
        "Items: %(count)s, amounting to %(total)s",
        "Total poziții: %(count)s, în valoare de %(total)s",
        "Всего наименований %(count)s, на сумму %(total)s",
    ),
    "rounding_rule": (
        "Each line's net amount and VAT are rounded half-up to the cent; "
        "the totals are the sums of the lines.",
        "Valoarea fără TVA și TVA-ul fiecărei linii sunt rotunjite la ban (jumătatea în sus); "
        "totalurile sunt sumele liniilor.",
        "Сумма без НДС и НДС каждой строки округляются до копейки (половина — вверх); "
        "итоги — суммы строк.",
    ),
    "act_statement": (
        "The work (services) above has been completed in full and on time. The client has no "
        "claims as to scope, quality or timing.",
        "Serviciile de mai sus au fost prestate integral și la termen. Beneficiarul nu are "
        "obiecții privind volumul, calitatea și termenele de prestare.",
        "Вышеперечисленные работы (услуги) выполнены полностью и в срок. Заказчик претензий "
        "по объёму, качеству и срокам оказания услуг не имеет.",
    ),
    "contract_parties": (
        "%(seller)s (the Contractor) and %(buyer)s (the Client) have agreed as follows.",
        "Între %(seller)s, în calitate de Prestator, și %(buyer)s, în calitate de Beneficiar, "
        "s-a încheiat prezentul contract.",
        "%(seller)s, именуемое в дальнейшем «Исполнитель», и %(buyer)s, именуемое в дальнейшем "
        "«Заказчик», заключили настоящий договор о нижеследующем.",
    ),
    "contract_subject": ("Subject of the contract", "Obiectul contractului", "Предмет договора"),
    "contract_terms": ("Terms", "Clauze", "Условия"),
    "contract_value": ("Contract value", "Valoarea contractului", "Цена договора"),
    "contract_details": ("Details of the parties", "Datele părților", "Реквизиты сторон"),
    "credit_for": ("Cancels invoice", "Stornează factura", "Корректирует счёт"),
    "order_thanks": (
        "Thank you for your order. We confirm the items below.",
        "Vă mulțumim pentru comandă. Confirmăm produsele și serviciile de mai jos.",
        "Благодарим за заказ. Подтверждаем позиции, указанные ниже.",
    ),
    "page": ("Page", "Pagina", "Страница"),
}
_INDEX = {"en": 0, "ro": 1, "ru": 2}


def labels(language: str, kind: str) -> dict[str, str]:
    """The words of one form in one language; act and contract name the parties
    Contractor/Client (Prestator/Beneficiar, Исполнитель/Заказчик)."""
    i = _INDEX.get(language, 0)
    words = {key: texts[i] for key, texts in _LABELS.items()}
    words["title"] = TITLES[kind][language if language in _INDEX else "en"]
    if kind in ("act", "contract"):
        words["seller"], words["buyer"] = words["contractor"], words["customer"]
    return words
