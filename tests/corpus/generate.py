#!/usr/bin/env python3
"""Writes the systematic part of the messy-export corpus: tests/corpus/<locale>.cases.

Not run by the test suite, and it never runs Sluice: it is a second, independent statement of
the normalization rules, so that the corpus's expected values come from the rules and not from
what Sluice happens to output. Its sources of truth:

- month names: Unicode CLDR through Babel (`pip install babel`), not Sluice's hand-typed table;
- phone numbers: libphonenumber's metadata through Google's Python port (`pip install
  phonenumbers`), for valid numbers and their E.164 form;
- dates: Python's calendar (`datetime.date`), so 29 February is only real in leap years;
- amounts: Python's `decimal`, rounded half away from zero to the field's scale;
- the clean step: Python's `unicodedata` (categories Cf and Cc removed but NUL, NFC, the
  Unicode White_Space set turned into single spaces).

The output is deterministic (seeded); re-running it rewrites the same files. The hand-written
cases (tests/corpus/*-hand.cases) are not touched.
"""

import datetime
import random
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

import phonenumbers
from babel import Locale

OUT = __file__.rsplit("/", 1)[0]

# Unicode White_Space (PropList.txt): what the clean step turns into a space.
WHITE_SPACE = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e"]
SPACES = ["\u00a0", "\u202f", "\t", "\u2009", "\u3000"]


def clean(s):
    kept = "".join(
        c
        for c in s
        if c in WHITE_SPACE or c == "\0" or unicodedata.category(c) not in ("Cf", "Cc")
    )
    kept = unicodedata.normalize("NFC", kept)
    spaced = "".join(" " if c in WHITE_SPACE else c for c in kept)
    return " ".join(w for w in spaced.split(" ") if w)


def title(s):
    out, start = [], True
    for c in s:
        out.append(c.upper() if start else c.lower())
        start = c in WHITE_SPACE or c in "-'’"
    return "".join(out)


def escape(s):
    """The corpus notation: anything not plainly visible is written \\u{XXXX}."""
    out = []
    for c in s:
        visible = c == " " or (unicodedata.category(c)[0] in "LNPS" and c not in "\\|")
        out.append(c if visible else "\\u{%04x}" % ord(c))
    text = "".join(out)
    # Spaces at the edges would be eaten by the " | " separator.
    if text.startswith(" "):
        text = "\\u{0020}" + text[1:]
    if text.endswith(" "):
        text = text[:-1] + "\\u{0020}"
    return text


def sprinkle(rng, s, n=1):
    """Invisible characters and odd spaces where exports put them."""
    s = list(s)
    for _ in range(n):
        pos = rng.randrange(len(s) + 1)
        s.insert(pos, rng.choice(INVISIBLE))
    return "".join(s)


def messy(rng, s):
    kind = rng.randrange(6)
    if kind == 0:
        return sprinkle(rng, s, rng.randint(1, 3))
    if kind == 1:
        return rng.choice(SPACES) + s + rng.choice(SPACES + INVISIBLE)
    if kind == 2:
        return s.replace(" ", rng.choice(SPACES) + " ", 1)
    if kind == 3:
        return "\ufeff" + s
    if kind == 4:
        # Decomposed accents: e + U+0301 instead of é.
        return unicodedata.normalize("NFD", s)
    return s


LOCALES = {
    "fr": dict(region="FR", babel="fr", dec=",", group=[" ", "\u00a0", "\u202f", "."]),
    "en": dict(region="US", babel="en", dec=".", group=[","]),
    "de": dict(region="DE", babel="de", dec=",", group=[".", " "]),
    "es": dict(region="ES", babel="es", dec=",", group=[".", " "]),
    "it": dict(region="IT", babel="it", dec=",", group=[".", " "]),
    "nl": dict(region="NL", babel="nl", dec=",", group=[".", " "]),
    "pt": dict(region="PT", babel="pt", dec=",", group=[".", " "]),
}

# Words each corpus mapping's value maps know (tests/corpus/mappings/<locale>.toml).
STATUS = {
    "fr": {"brouillon": "Draft", "envoyée": "Sent", "payée": "Paid", "annulée": "Cancelled", "résiliée": "Cancelled", "résilié": "Cancelled"},
    "en": {"draft": "Draft", "sent": "Sent", "paid": "Paid", "cancelled": "Cancelled", "canceled": "Cancelled"},
    "de": {"entwurf": "Draft", "versendet": "Sent", "bezahlt": "Paid", "storniert": "Cancelled"},
    "es": {"borrador": "Draft", "enviada": "Sent", "pagada": "Paid", "anulada": "Cancelled", "cancelada": "Cancelled"},
    "it": {"bozza": "Draft", "inviata": "Sent", "pagata": "Paid", "annullata": "Cancelled"},
    "nl": {"concept": "Draft", "verzonden": "Sent", "betaald": "Paid", "geannuleerd": "Cancelled"},
    "pt": {"rascunho": "Draft", "enviada": "Sent", "paga": "Paid", "cancelada": "Cancelled", "anulada": "Cancelled"},
}
INDUSTRY = {
    "fr": {"banque": "Banking", "conseil": "Consulting", "santé": "Healthcare", "industrie": "Manufacturing", "commerce": "Retail", "transport": "Transportation"},
    "en": {"bank": "Banking", "consulting": "Consulting", "health care": "Healthcare", "manufacturing": "Manufacturing", "retail": "Retail", "transport": "Transportation"},
    "de": {"bank": "Banking", "beratung": "Consulting", "gesundheitswesen": "Healthcare", "industrie": "Manufacturing", "handel": "Retail", "logistik": "Transportation"},
    "es": {"banca": "Banking", "consultoría": "Consulting", "salud": "Healthcare", "industria": "Manufacturing", "comercio": "Retail", "transporte": "Transportation"},
    "it": {"banca": "Banking", "consulenza": "Consulting", "sanità": "Healthcare", "industria": "Manufacturing", "commercio": "Retail", "trasporti": "Transportation"},
    "nl": {"bank": "Banking", "advies": "Consulting", "zorg": "Healthcare", "industrie": "Manufacturing", "detailhandel": "Retail", "vervoer": "Transportation"},
    "pt": {"banca": "Banking", "consultoria": "Consulting", "saúde": "Healthcare", "indústria": "Manufacturing", "comércio": "Retail", "transportes": "Transportation"},
}
LEAD = {
    "fr": {"site web": "Web", "téléphone": "Phone Inquiry", "partenaire": "Partner Referral"},
    "en": {"website": "Web", "phone": "Phone Inquiry", "partner": "Partner Referral"},
    "de": {"webseite": "Web", "telefon": "Phone Inquiry", "partner": "Partner Referral"},
    "es": {"web": "Web", "teléfono": "Phone Inquiry", "socio": "Partner Referral"},
    "it": {"sito web": "Web", "telefono": "Phone Inquiry", "partner": "Partner Referral"},
    "nl": {"website": "Web", "telefoon": "Phone Inquiry", "partner": "Partner Referral"},
    "pt": {"site": "Web", "telefone": "Phone Inquiry", "parceiro": "Partner Referral"},
}
# Country spellings the `country` transform's table lists, with their code; all codes here are
# in the simulated org's restricted picklist.
COUNTRIES = {
    "fr": [("France", "FR"), ("Allemagne", "DE"), ("Belgique", "BE"), ("Suisse", "CH"), ("Espagne", "ES"), ("Royaume-Uni", "GB"), ("FRA", "FR")],
    "en": [("United States", "US"), ("USA", "US"), ("United Kingdom", "GB"), ("Canada", "CA"), ("Ireland", "IE"), ("Germany", "DE"), ("us", "US")],
    "de": [("Deutschland", "DE"), ("Österreich", "AT"), ("Schweiz", "CH"), ("Belgien", "BE"), ("Germany", "DE"), ("DEU", "DE")],
    "es": [("España", "ES"), ("Espagne", "ES"), ("México", "MX"), ("Brasil", "BR"), ("Portugal", "PT"), ("ESP", "ES")],
    "it": [("Italia", "IT"), ("Svizzera", "CH"), ("Italy", "IT"), ("France", "FR"), ("ITA", "IT")],
    "nl": [("Nederland", "NL"), ("België", "BE"), ("The Netherlands", "NL"), ("Holland", "NL"), ("NLD", "NL")],
    "pt": [("Portugal", "PT"), ("Brasil", "BR"), ("Espagne", "ES"), ("PRT", "PT"), ("pt", "PT")],
}
FIRST = ["jean-pierre", "MARIE", "élodie", "o'neil", "anna-lena", "joão", "françois", "søren", "chloé", "íñigo", "giulia", "luuk", "björn", "zoë"]
LAST = ["DUPONT", "martin", "de la fontaine", "O'BRIEN", "müller", "gonçalves", "van der berg", "rossi", "peña", "schäfer", "lefèvre", "d'angelo"]
COMPANY = ["Boulangerie Martin", "Müller & Söhne GmbH", "Café Łódź", "Peña y Asociados", "Rossi S.p.A.", "Van Dijk B.V.", "Gonçalves Lda", "Ørsted Nordic"]
CITY = ["paris", "SAINT-ÉTIENNE", "köln", "l'aquila", "san sebastián", "den haag", "são paulo", "aix-en-provence"]
GOOD_EMAIL = ["jean.dupont@exemple.fr", "MARIE.CURIE@EXAMPLE.COM", "o'neil+crm@example.ie", "x_y-z@sub-domain.example.org", "a1@b2.co.uk", "First.Last@Example.DE"]
BAD_EMAIL = ["josé@exemple.fr", "jean..dupont@exemple.fr", "jean dupont@exemple.fr", "jean.dupont@exemple", "jean@@exemple.fr", ".jean@exemple.fr", "jean,dupont@exemple.fr", "jean@exemplé.fr", "Jean <jean@exemple.fr>"]


class Writer:
    def __init__(self, locale):
        self.locale = locale
        self.lines = []
        self.seq = {"Account": 0, "Contact": 0, "Invoice__c": 0}

    def key(self, obj):
        self.seq[obj] += 1
        prefix = {"Account": "ACC", "Contact": "CON", "Invoice__c": "INV"}[obj]
        return f"{prefix}-{self.locale.upper()}-{self.seq[obj]:04d}"

    def comment(self, text):
        self.lines.append(f"# {text}")

    def case(self, obj, key, fields, expect, raw_id=None):
        parts = [f"{obj} {key}"]
        if raw_id is not None:
            parts.append(f"id={escape(raw_id)}")
        for name, value in fields.items():
            if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                parts.append(f"{name}=#{value}")
            else:
                parts.append(f"{name}={escape(value)}")
        if isinstance(expect, list):
            got = "REFUSED " + " ; ".join(f"{s}>{t}:{r}" for s, t, r in expect)
        else:
            got = " | ".join(f"{k}={escape(str(v))}" for k, v in expect.items())
        self.lines.append(" | ".join(parts) + " => " + got)


def month_names(babel_locale):
    loc = Locale.parse(babel_locale)
    names = []
    for ctx in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            for m in range(1, 13):
                names.append((m, loc.months[ctx][width][m]))
    return names


def ordinal(locale, day):
    if locale == "fr" and day == 1:
        return "1er"
    if locale == "en":
        suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
        return f"{day}{suffix}"
    if locale in ("es", "it", "pt") and day == 1:
        return "1º"
    return str(day)


def written_date(rng, locale, d):
    """One way a person of `locale` writes `d`, readable by the corpus mapping's formats."""
    names = month_names(LOCALES[locale]["babel"])
    name = rng.choice([n for m, n in names if m == d.month])
    if rng.random() < 0.3:
        name = name.rstrip(".")
    if rng.random() < 0.2:
        name = name.upper()
    day = str(d.day) if rng.random() < 0.5 else f"{d.day:02d}"
    yy = f"{d.year % 100:02d}"
    shapes = {
        "fr": [f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day}/{d.month}/{yy}", f"{ordinal('fr', d.day) if d.day == 1 else day} {name} {d.year}", f"{d.day:02d}.{d.month:02d}.{d.year}", d.isoformat()],
        "en": [f"{d.month:02d}/{d.day:02d}/{d.year}", f"{d.month}/{d.day}/{yy}", f"{name} {ordinal('en', d.day) if rng.random() < 0.4 else day}, {d.year}", f"{day} {name} {d.year}", d.isoformat()],
        "de": [f"{d.day:02d}.{d.month:02d}.{d.year}", f"{d.day}.{d.month}.{yy}", f"{d.day}. {name} {d.year}", f"{day} {name} {d.year}", d.isoformat()],
        "es": [f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day}/{d.month}/{yy}", f"{ordinal('es', d.day) if d.day == 1 else day} de {name} de {d.year}", f"{day} {name} {d.year}", d.isoformat()],
        "it": [f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day}/{d.month}/{yy}", f"{ordinal('it', d.day) if d.day == 1 else day} {name} {d.year}", d.isoformat()],
        "nl": [f"{d.day:02d}-{d.month:02d}-{d.year}", f"{d.day}-{d.month}-{yy}", f"{day} {name} {d.year}", d.isoformat()],
        "pt": [f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day}/{d.month}/{yy}", f"{ordinal('pt', d.day) if d.day == 1 else day} de {name} de {d.year}", d.isoformat()],
    }[locale]
    return rng.choice(shapes)


def impossible_date(rng, locale):
    names = dict((m, n) for m, n in month_names(LOCALES[locale]["babel"])[:12])
    shapes = {
        "fr": ["31/04/2026", "29/02/2025", f"31 {names[4]} 2026", "30/02/24"],
        "en": ["04/31/2026", "02/29/2025", f"{names[2]} 30, 2026", "2/30/24"],
        "de": ["31.04.2026", "29.02.2025", f"31. {names[6]} 2026", "30.2.24"],
        "es": ["31/04/2026", "29/02/2025", f"31 de {names[9]} de 2026", "30/2/24"],
        "it": ["31/04/2026", "29/02/2025", f"31 {names[11]} 2026", "30/2/24"],
        "nl": ["31-04-2026", "29-02-2025", f"31 {names[4]} 2026", "30-2-24"],
        "pt": ["31/04/2026", "29/02/2025", f"31 de {names[6]} de 2026", "30/2/24"],
    }[locale]
    return rng.choice(shapes)


def unknown_month(locale):
    return {"fr": "3 févrierr 2026", "en": "March 3 2026", "de": "3. Märzz 2026", "es": "3 de marzzo de 2026",
            "it": "3 marzzo 2026", "nl": "3 maartt 2026", "pt": "3 de marçoo de 2026"}[locale]


def amount_text(rng, locale, value):
    """`value` (a Decimal, positive) as a person of `locale` writes it, with or without a
    currency mark, and the currency the mark names."""
    conf = LOCALES[locale]
    sign = "-" if value < 0 else ""
    q = abs(value)
    int_part, _, frac = f"{q:f}".partition(".")
    group = rng.choice(conf["group"]) if rng.random() < 0.7 and len(int_part) > 3 else ""
    digits = int_part
    if group:
        first = len(int_part) % 3 or 3
        chunks = [int_part[:first]] + [int_part[i:i + 3] for i in range(first, len(int_part), 3)]
        digits = group.join(chunks)
    text = digits + (conf["dec"] + frac if frac else "")
    marks = {"en": [("$", "$"), ("USD", "USD"), ("US$", "US$")], "default": [("€", "€"), ("EUR", "EUR"), ("eur", "eur")]}
    mark, shown = rng.choice(marks.get(locale, marks["default"]))
    where = rng.randrange(4)
    if where == 0:
        return sign + text
    if where == 1:
        return f"{sign}{text} {shown}"
    if where == 2:
        return f"{sign}{shown}{text}" if len(shown) == 1 else f"{shown} {sign}{text}"
    return f"{sign}{text}{shown}"


def rounded(value):
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def as_number(d):
    """How a JSON number of the value reads back: integers without a fraction."""
    n = d.normalize()
    return str(n.quantize(Decimal(1))) if n == n.to_integral() else format(n, "f")


def valid_numbers(region, rng, kind, count):
    example = phonenumbers.example_number_for_type(region, kind)
    national = str(example.national_number)
    found, tries = [], 0
    while len(found) < count and tries < 500:
        tries += 1
        digits = national[:-3] + "".join(rng.choice("0123456789") for _ in range(3))
        n = phonenumbers.parse("+" + str(example.country_code) + digits, None)
        if example.italian_leading_zero:
            n.italian_leading_zero = True
        if phonenumbers.is_valid_number(n):
            found.append(n)
    return found


def phone_text(rng, n, region):
    national = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    shapes = [national, national.replace(" ", "."), national.replace(" ", ""), international]
    if region != "US":
        shapes.append("00" + international[1:])
        shapes.append(national.replace(" ", "\u00a0"))
    return rng.choice(shapes)


def with_letter(text):
    """A typo exports carry: an l for a 1, an O for a 0."""
    for digit, letter in (("1", "l"), ("0", "O"), ("5", "S")):
        i = text.rfind(digit)
        if i > 0:
            return text[:i] + letter + text[i + 1:], letter
    return text + "x", "x"


def vary_word(rng, w):
    kind = rng.randrange(5)
    if kind == 0:
        return w.upper()
    if kind == 1:
        return "".join(c for c in unicodedata.normalize("NFD", w) if unicodedata.category(c) != "Mn")
    if kind == 2:
        return f" {w.capitalize()}\u00a0"
    if kind == 3:
        return sprinkle(rng, w)
    return w


def accounts(w, rng, loc):
    region = LOCALES[loc]["region"]
    numbers = valid_numbers(region, rng, phonenumbers.PhoneNumberType.FIXED_LINE, 40)
    keys = []
    w.comment("Accounts: names and codes with invisible characters, phones in every national and international shape, local country names, industry words in any case")
    for i in range(24):
        key = w.key("Account")
        name = rng.choice(COMPANY) + f" {i + 1}"
        n = numbers[i % len(numbers)]
        country, code = rng.choice(COUNTRIES[loc])
        word, industry = rng.choice(list(INDUSTRY[loc].items()))
        city = rng.choice(CITY)
        street1, street2 = f"{i + 3} rue de la Paix", "Bâtiment B"
        fields = {
            "name": messy(rng, name), "phone": phone_text(rng, n, region), "country": vary_word(rng, country),
            "industry": vary_word(rng, word), "city": messy(rng, city), "web": f"WWW.Example-{i}.COM",
            "street": f" {street1}\u00a0\r\n\r\n{street2}\u200b ", "zip": f"\u200b{75000 + i}",
            "number": sprinkle(rng, f"SIREN {552100554 + i}"),
        }
        expect = {
            "Name": clean(name), "Phone": phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164),
            "BillingCountryCode": code, "Industry": industry, "BillingCity": title(clean(city)),
            "Website": f"www.example-{i}.com", "BillingStreet": f"{street1}\n{street2}",
            "BillingPostalCode": str(75000 + i), "AccountNumber": f"SIREN {552100554 + i}",
        }
        raw_id = sprinkle(rng, key) if i % 3 == 0 else None
        w.case("Account", key, fields, expect, raw_id=raw_id)
        keys.append(key)
    w.comment("Accounts Salesforce or the mapping would refuse")
    n = numbers[0]
    typo, letter = with_letter(phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL))
    w.case("Account", w.key("Account"), {"name": "Lettres SA", "phone": typo}, [("phone", "Phone", "phone")])
    w.case("Account", w.key("Account"), {"name": "Trop court", "phone": "01 23"}, [("phone", "Phone", "phone")])
    w.case("Account", w.key("Account"), {"name": "\u200b\ufeff\u00a0\u2060"}, [("name", "Name", "required")])
    w.case("Account", w.key("Account"), {"name": "Secteur inconnu", "industry": "astrologie"}, [("industry", "Industry", "map")])
    w.case("Account", w.key("Account"), {"name": "Pays inconnu", "country": "Atlantide"}, [("country", "BillingCountryCode", "country")])
    w.case("Account", w.key("Account"), {"name": "Pays hors liste", "country": "Argentina"}, [("country", "BillingCountryCode", "picklist")])
    w.case("Account", w.key("Account"), {"name": "Numéro trop long", "number": "N" * 41}, [("number", "AccountNumber", "too_long")])
    w.case("Account", w.key("Account"), {"name": "Tout faux", "phone": "appeler", "industry": "magie", "number": "9" * 45},
           [("phone", "Phone", "phone"), ("industry", "Industry", "map"), ("number", "AccountNumber", "too_long")])
    return keys


def contacts(w, rng, loc, account_keys):
    region = LOCALES[loc]["region"]
    mobiles = valid_numbers(region, rng, phonenumbers.PhoneNumberType.MOBILE, 40)
    w.comment("Contacts: names to title case, e-mails in capitals or with invisible characters, birthdates in every format the locale writes, lead sources with a fallback")
    start = datetime.date(1950, 1, 1)
    for i in range(48):
        key = w.key("Contact")
        first, last = rng.choice(FIRST), rng.choice(LAST)
        d = start + datetime.timedelta(days=rng.randrange(0, 365 * 70))
        if i % 12 == 0:
            d = d.replace(day=1)
        email = rng.choice(GOOD_EMAIL).replace("@", f"{i}@")
        m = mobiles[i % len(mobiles)]
        word, lead = (rng.choice(list(LEAD[loc].items())) if i % 5 else ("salon", "Other"))
        country, code = rng.choice(COUNTRIES[loc])
        fields = {
            "first": messy(rng, first), "last": messy(rng, last), "email": sprinkle(rng, email) if i % 4 == 0 else email,
            "birth": written_date(rng, loc, d), "mobile": phone_text(rng, m, region), "source": vary_word(rng, word),
            "country": country,
        }
        expect = {
            "FirstName": title(clean(first)), "LastName": title(clean(last)), "Email": email.lower(),
            "Birthdate": d.isoformat(), "MobilePhone": phonenumbers.format_number(m, phonenumbers.PhoneNumberFormat.E164),
            "LeadSource": lead, "MailingCountryCode": code,
        }
        if i % 6 == 0:
            fields["account"] = account_keys[i % len(account_keys)]
        w.case("Contact", key, fields, expect)
    w.comment("Contacts Salesforce or the mapping would refuse")
    for bad in BAD_EMAIL:
        w.case("Contact", w.key("Contact"), {"last": "Refusé", "email": bad}, [("email", "Email", "email")])
    w.case("Contact", w.key("Contact"), {"last": "Date", "birth": impossible_date(rng, loc)}, [("birth", "Birthdate", "date")])
    w.case("Contact", w.key("Contact"), {"last": "Date", "birth": impossible_date(rng, loc)}, [("birth", "Birthdate", "date")])
    w.case("Contact", w.key("Contact"), {"last": "Mois", "birth": unknown_month(loc)}, [("birth", "Birthdate", "date")])
    w.case("Contact", w.key("Contact"), {"last": "Forme", "birth": "1986/11/28"}, [("birth", "Birthdate", "date")])
    w.case("Contact", w.key("Contact"), {"first": "Sans", "last": "\u200b \u00a0"}, [("last", "LastName", "required")])
    w.case("Contact", w.key("Contact"), {"last": "Lettres", "mobile": with_letter(phone_text(rng, mobiles[0], region))[0]}, [("mobile", "MobilePhone", "phone")])
    w.case("Contact", w.key("Contact"), {"last": "Pays", "country": "Argentina"}, [("country", "MailingCountryCode", "picklist")])
    w.case("Contact", w.key("Contact"), {"first": "x" * 41, "email": "a..b@c.fr", "birth": impossible_date(rng, loc)},
           [("email", "Email", "email"), ("birth", "Birthdate", "date"), ("last", "LastName", "required"), ("first", "FirstName", "too_long")])


def invoices(w, rng, loc, account_keys):
    w.comment("Invoices: amounts in every shape (grouping, currency marks before and after, JSON numbers, rounding), dates issued and due, status words in any case or accent")
    words = list(STATUS[loc].items())
    base = datetime.date(2024, 1, 1)
    for i in range(60):
        key = w.key("Invoice__c")
        cents = rng.choice([rng.randrange(1, 100), rng.randrange(100, 10_000), rng.randrange(10_000, 100_000_000), rng.randrange(100_000_000, 10_000_000_000)])
        value = Decimal(cents) / 100
        if i % 7 == 0:
            value += Decimal(rng.choice(["0.005", "0.004", "0.0049", "0.0051"]))
        issued = base + datetime.timedelta(days=rng.randrange(0, 900))
        due = issued + datetime.timedelta(days=rng.choice([0, 15, 30, 45, 60]))
        word, status = rng.choice(words)
        fields = {
            "amount": amount_text(rng, loc, value) if i % 9 else float(value) if i % 2 else int(cents // 100 or 1),
            "issued": written_date(rng, loc, issued), "due": written_date(rng, loc, due), "status": vary_word(rng, word),
        }
        amount = Decimal(str(fields["amount"])) if not isinstance(fields["amount"], str) else value
        if i % 10 == 3:
            fields["currency"] = " usd\u200b"
        expect = {
            "Amount__c": as_number(rounded(amount)), "Issue_Date__c": issued.isoformat(), "Due_Date__c": due.isoformat(),
            "Status__c": status, "Currency__c": "USD" if i % 10 == 3 else "EUR", "Name": key,
        }
        if i % 5 == 0:
            fields["account"] = account_keys[i % len(account_keys)]
        w.case("Invoice__c", key, fields, expect)
    w.comment("Invoices the mapping or the org's validation rules would refuse")
    d = datetime.date(2026, 3, 10)
    later, earlier = written_date(rng, loc, d), written_date(rng, loc, d - datetime.timedelta(days=9))
    word = words[0][0]
    def inv(fields, expect):
        w.case("Invoice__c", w.key("Invoice__c"), dict({"status": word, "issued": later}, **fields), expect)
    inv({"amount": "12,3,4" if loc != "en" else "12.3.4"}, [("amount", "Amount__c", "decimal")])
    inv({"amount": "1 2345,6" if loc != "en" else "1,2345.6"}, [("amount", "Amount__c", "decimal")])
    inv({"amount": "12 XYZ"}, [("amount", "Amount__c", "decimal")])
    inv({"amount": "douze"}, [("amount", "Amount__c", "decimal")])
    inv({"amount": "\u200b"}, [("amount", "Amount__c", "required")])
    inv({"amount": "-12" if loc == "en" else "-12,50"}, [("amount", "Amount__c", "validation_rule")])
    inv({"amount": "12.50-" if loc == "en" else "1.234,50-"}, [("amount", "Amount__c", "validation_rule")])
    inv({"amount": "0"}, [("amount", "Amount__c", "validation_rule")])
    inv({"amount": "10", "due": earlier}, [("due", "Due_Date__c", "validation_rule")])
    inv({"amount": "10", "status": "inconnu"}, [("status", "Status__c", "map")])
    inv({"amount": "10", "issued": impossible_date(rng, loc)}, [("issued", "Issue_Date__c", "date")])
    inv({"amount": "-5", "due": earlier, "status": "???"},
        [("status", "Status__c", "map"), ("due", "Due_Date__c", "validation_rule"), ("amount", "Amount__c", "validation_rule")])
    inv({"amount": "10", "issued": "\u2060", "due": earlier}, [("issued", "Issue_Date__c", "required")])


def main():
    for loc in LOCALES:
        rng = random.Random(f"sluice-corpus-{loc}")
        w = Writer(loc)
        w.lines.append("# Generated by tests/corpus/generate.py from the rules (see its docstring); do not edit by hand.")
        w.lines.append(f"source corpus-{loc}")
        keys = accounts(w, rng, loc)
        contacts(w, rng, loc, keys)
        invoices(w, rng, loc, keys)
        with open(f"{OUT}/{loc}.cases", "w") as f:
            f.write("\n".join(w.lines) + "\n")
        print(loc, sum(1 for l in w.lines if l and not l.startswith(("#", "source"))))


if __name__ == "__main__":
    main()
