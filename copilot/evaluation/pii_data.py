"""Chat data with planted personal data, for the bundled example, the eval's PII tasks and benchmarks/pii.py.

Conversations are real: banking77 customer queries (a user's turn alone: the data has no replies) and GSM8K word
problems with their worked answers (amounts, dates, sums and order-like numbers: the negatives a
detector must leave alone). Into some turns a sentence carrying one value is planted: an e-mail address, a phone
number (valid for its country, in its international, E.164 or national format), a payment card number (a real
network's prefix and length, Luhn-valid, grouped or not), an IBAN (the country's length, a valid checksum), an IP
address (v4 or v6) or an API key (a vendor's format, or a random token after 'key'). Every value is generated
here from a seeded random source: none belongs to anyone.
"""

from __future__ import annotations

import ipaddress
import random
import string
from dataclasses import dataclass
from typing import Any

KIND_NAMES = ("email", "phone", "card", "iban", "ip", "secret")
FIRST = ["anna", "li", "omar", "sofia", "james", "priya", "chen", "maria", "tom", "fatima", "lucas", "yuki"]
LAST = ["novak", "wang", "haddad", "rossi", "smith", "patel", "kim", "garcia", "oneil", "silva", "mueller", "sato"]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "proton.me", "example.org", "mail.acme-corp.com", "web.de"]
PHONE_REGIONS = {"US": "1", "GB": "44", "DE": "49", "FR": "33", "IN": "91", "AU": "61"}
IBAN_COUNTRIES = {"GB": (4, 14), "DE": (0, 18), "FR": (0, 23), "ES": (0, 20), "NL": (4, 10), "IT": (1, 22)}
TEMPLATES = {
    "email": ["My email is {}.", "You can reach me at {} any time.", "Please send the statement to {}"],
    "phone": ["Call me on {} please.", "My phone number is {}.", "Text {} when it is done"],
    "card": ["I paid with my card {} yesterday.", "The card number is {}.", "Charge it to {} again"],
    "iban": ["Please send the refund to IBAN {}.", "My account is {}.", "Transfer it to {} by Friday"],
    "ip": ["I logged in from {} and got blocked.", "The app says my address {} is banned.", "Requests from {} fail"],
    "secret": ["Here is my API key {} does it look right?", "I set token={} in the config.", "key: {}"],
}


@dataclass(frozen=True)
class Plant:
    row_id: str
    message: int
    kind: str
    value: str


def _luhn_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def fake_email(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}{rng.randint(1, 99)}", f"{first}+bank"])
    return f"{local}@{rng.choice(DOMAINS)}"


def fake_phone(rng: random.Random) -> str:
    import phonenumbers

    for _ in range(1000):
        region = rng.choice(list(PHONE_REGIONS))
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        national = str(example.national_number)
        digits = national[:2] + "".join(rng.choice(string.digits) for _ in national[2:])
        number = phonenumbers.parse(f"+{PHONE_REGIONS[region]}{digits}")
        if phonenumbers.is_valid_number(number):
            style = rng.choice(
                [
                    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                    phonenumbers.PhoneNumberFormat.E164,
                    phonenumbers.PhoneNumberFormat.NATIONAL,
                ]
            )
            return phonenumbers.format_number(number, style)
    raise RuntimeError("no valid phone number drawn")


def fake_card(rng: random.Random) -> str:
    prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16)])
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    number = body + _luhn_digit(body)
    style = rng.choice(["spaces", "dashes", "plain"])
    if style == "plain":
        return number
    groups = [number[:4], number[4:10], number[10:]] if length == 15 else [number[i : i + 4] for i in range(0, 16, 4)]
    return (" " if style == "spaces" else "-").join(groups)


def fake_iban(rng: random.Random) -> str:
    country = rng.choice(list(IBAN_COUNTRIES))
    letters, digits = IBAN_COUNTRIES[country]
    bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(letters)) + "".join(
        rng.choice(string.digits) for _ in range(digits)
    )
    moved = bban + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in moved)) % 97
    compact = f"{country}{check:02d}{bban}"
    if rng.random() < 0.5:
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def fake_ip(rng: random.Random) -> str:
    if rng.random() < 0.7:
        while True:
            address = ipaddress.IPv4Address(rng.getrandbits(32))
            if address.is_global:
                return str(address)
    return str(ipaddress.IPv6Address((0x2001_0DB8 << 96) | rng.getrandbits(80)))


def fake_secret(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits

    def draw(n: int, chars: str = alnum) -> str:
        return "".join(rng.choice(chars) for _ in range(n))

    return rng.choice(
        [
            lambda: "sk-proj-" + draw(40),
            lambda: "ghp_" + draw(36),
            lambda: "AKIA" + draw(16, string.ascii_uppercase + string.digits),
            lambda: "xoxb-" + draw(12, string.digits) + "-" + draw(24),
            lambda: "AIza" + draw(35),
            lambda: "hf_" + draw(34),
            lambda: "glpat-" + draw(20),
            lambda: "sk_live_" + draw(24),
            lambda: draw(32),
        ]
    )()


FAKERS = {
    "email": fake_email,
    "phone": fake_phone,
    "card": fake_card,
    "iban": fake_iban,
    "ip": fake_ip,
    "secret": fake_secret,
}


def planted_sentence(kind: str, rng: random.Random) -> tuple[str, str]:
    value = FAKERS[kind](rng)
    template = rng.choice(TEMPLATES[kind])
    if kind == "secret" and not template.startswith(("Here", "I set")) and value.isalnum():
        template = "My API key is {}"  # a bare random token is only a key where the words say so
    return template.format(value), value


def build_chats(
    queries: list[dict[str, Any]], problems: list[dict[str, Any]], per_kind: int, seed: int
) -> tuple[list[dict[str, Any]], list[Plant]]:
    """Chats from banking77 queries (text) and GSM8K problems (question, answer), shuffled, with `per_kind` values
    of each kind planted into distinct conversations (one in five of those with a reply in the assistant's turn)."""
    rng = random.Random(seed)
    rows = []
    for q in queries:
        rows.append([{"role": "user", "content": q["text"]}])
    for p in problems:
        rows.append([{"role": "user", "content": p["question"]}, {"role": "assistant", "content": p["answer"]}])
    rng.shuffle(rows)
    if per_kind * len(KIND_NAMES) > len(rows):
        raise ValueError(f"{per_kind} plants of {len(KIND_NAMES)} kinds need more than {len(rows)} conversations")
    targets = rng.sample(range(len(rows)), per_kind * len(KIND_NAMES))
    plants = []
    for n, index in enumerate(targets):
        kind = KIND_NAMES[n % len(KIND_NAMES)]
        sentence, value = planted_sentence(kind, rng)
        message = 1 if len(rows[index]) > 1 and rng.random() < 0.2 else 0
        turn = rows[index][message]
        turn["content"] = f"{turn['content'].rstrip()} {sentence}"
        plants.append(Plant(row_id=f"chat-{index:05d}", message=message, kind=kind, value=value))
    chats = [{"id": f"chat-{i:05d}", "messages": messages} for i, messages in enumerate(rows)]
    return chats, sorted(plants, key=lambda p: p.row_id)
