"""Personal data and secrets in text, found by rules that check what they match: e-mail addresses, phone numbers
(libphonenumber's parser and its validity rules), payment card numbers (Luhn and a card network's prefix), IBANs
(the country's length and the mod-97 checksum), IP addresses (parsed), and API keys and tokens (vendors' prefixes;
other long random tokens only beside a word like "key" or "token").

A number is not personal data because it is long: amounts, dates, versions and order numbers fail these checks.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Literal

PiiKind = Literal["email", "phone", "card", "iban", "ip", "secret"]
KINDS: tuple[PiiKind, ...] = ("email", "phone", "card", "iban", "ip", "secret")
PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "ip": "[IP]",
    "secret": "[SECRET]",
}
# the regions whose national formats a number without '+' is read in (with '+', any country)
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "AU")


@dataclass(frozen=True)
class Span:
    kind: PiiKind
    start: int
    end: int
    value: str
    why: str
    score: float


EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
CARD = re.compile(r"(?<![\w+-])(?:\d[ -]?){12,18}\d(?![\w-])")
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
VENDOR_KEYS = re.compile(
    r"(?<![\w-])(?:"
    r"sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe
    r"|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}"  # GitHub
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|AIza[0-9A-Za-z_-]{35}"  # Google
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|hf_[A-Za-z0-9]{30,}"  # Hugging Face
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # a JWT
    r")(?![\w-])"
)
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----")
TOKEN = re.compile(r"(?<![\w/+-])[A-Za-z0-9][A-Za-z0-9_\-+/]{23,}={0,2}(?![\w/+=-])")
PHONE_RUN = re.compile(r"\+?\(?\d[\d().-]*(?: [\d().-]+)*\d\)?")
PHONE_WORDS = re.compile(
    r"\b(?:call|phone|mobile|cell|tel|telephone|text|sms|whatsapp|reach|number|ring|fax|contact)\w*\W+(?:\w+\W+){0,3}$",
    re.I,
)
ID_WORDS = re.compile(
    r"\b(?:order|ref|reference|invoice|tracking|account|acct|case|ticket|id|no|number|#)\W*(?:is\W+)?$", re.I
)
SECRET_WORDS = re.compile(r"\b(?:api[ _-]?key|key|token|secret|password|passwd|credential|bearer|auth)\w*", re.I)
# IBAN lengths by country (ISO 13616 registry): a country code it lacks is not an IBAN
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21,
    "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18,
    "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23,
    "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_network(digits: str) -> str | None:
    """The card network a number's prefix and length belong to (None: no network issues such numbers)."""
    n, two, four = len(digits), int(digits[:2]), int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "Visa"
    if (51 <= two <= 55 or 2221 <= four <= 2720) and n == 16:
        return "Mastercard"
    if two in (34, 37) and n == 15:
        return "American Express"
    if (digits.startswith("6011") or digits.startswith("65") or 644 <= int(digits[:3]) <= 649) and n in (16, 19):
        return "Discover"
    if 3528 <= four <= 3589 and 16 <= n <= 19:
        return "JCB"
    if two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:
        return "Diners Club" if 14 <= n <= 19 else None
    return None


def iban_ok(compact: str) -> bool:
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def _emails(text: str) -> list[Span]:
    return [Span("email", m.start(), m.end(), m.group(), "an e-mail address", 0.99) for m in EMAIL.finditer(text)]


def _cards(text: str) -> list[Span]:
    out = []
    for m in CARD.finditer(text):
        raw = m.group()
        digits = re.sub(r"\D", "", raw)
        groups = re.split(r"[ -]", raw)
        if len(set(re.findall(r"[ -]", raw))) > 1 or (len(groups) > 1 and min(map(len, groups)) < 3):
            continue  # '1 2 3 ...' or mixed separators: a list of numbers, not one card
        network = card_network(digits)
        if network and luhn_ok(digits):
            out.append(Span("card", m.start(), m.end(), raw, f"a {network} card number (Luhn checksum holds)", 0.97))
    return out


def _ibans(text: str) -> list[Span]:
    out = []
    for m in IBAN.finditer(text):
        raw = m.group().rstrip()
        compact = raw.replace(" ", "")
        # the match may run into following words ('GB82 WEST 1234 5698 7654 32 please'): the longest valid prefix
        for end in range(len(compact), 14, -1):
            if iban_ok(compact[:end]):
                kept, seen = 0, 0
                while seen < end:
                    seen += raw[kept] != " "
                    kept += 1
                out.append(
                    Span("iban", m.start(), m.start() + kept, raw[:kept], "an IBAN (mod-97 checksum holds)", 0.99)
                )
                break
    return out


def _ips(text: str) -> list[Span]:
    out = []
    for m in IPV4.finditer(text):
        before = text[max(0, m.start() - 12) : m.start()].lower()
        if re.search(r"(?:version|ver\.?|v)\s*$", before):
            continue  # 'version 1.2.3.4'
        try:
            address = ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        if str(address) == m.group():  # no leading zeros: '01.02.2024.1' is not an address
            out.append(Span("ip", m.start(), m.end(), m.group(), "an IPv4 address", 0.9))
    for m in IPV6.finditer(text):
        raw = m.group()
        if raw.count(":") < 2 or not re.search(r"[0-9A-Fa-f]{3,}", raw):
            continue  # '10:30:00' and '::' are not addresses
        try:
            ipaddress.IPv6Address(raw)
        except ValueError:
            continue
        out.append(Span("ip", m.start(), m.end(), raw, "an IPv6 address", 0.9))
    return out


def _secrets(text: str) -> list[Span]:
    out = [
        Span("secret", m.start(), m.end(), m.group(), "a private key block", 0.99) for m in PRIVATE_KEY.finditer(text)
    ]
    out += [
        Span("secret", m.start(), m.end(), m.group(), "a vendor's key format", 0.98) for m in VENDOR_KEYS.finditer(text)
    ]
    for m in TOKEN.finditer(text):
        token = m.group()
        classes = sum(bool(re.search(p, token)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
        near = text[max(0, m.start() - 40) : m.start()]
        if classes == 3 and entropy(token) >= 4.0 and SECRET_WORDS.search(near):
            out.append(Span("secret", m.start(), m.end(), token, "a random token after a word like 'key'", 0.85))
    return out


@cache
def _phone_lib():  # type: ignore[no-untyped-def]
    import phonenumbers

    return phonenumbers


def _phones(text: str) -> list[Span]:
    """Numbers libphonenumber reads as valid for their country, written as phone numbers are (a '+', or ten or
    more digits with separators); after a word like 'call' or 'phone', also a number that is only possible for a
    country (a made-up one) or a bare run of digits."""
    if not re.search(r"\d[\d\s().-]{5,}\d", text):
        return []  # no run of seven or more digits and separators: no phone number (and no slow parse)
    lib = _phone_lib()
    found: dict[tuple[int, int], Span] = {}
    for region in PHONE_REGIONS:
        for match in lib.PhoneNumberMatcher(text, region, leniency=lib.Leniency.POSSIBLE):
            raw = match.raw_string
            digits = sum(c.isdigit() for c in raw)
            around = text[max(0, match.start - 3) : match.start] + text[match.end : match.end + 3]
            if digits < 7 or re.search(r"[=*/<>×÷]", around):
                continue  # '360-270=<<...' is arithmetic
            before = text[max(0, match.start - 30) : match.start]
            said = PHONE_WORDS.search(before) is not None
            valid = lib.is_valid_number(match.number)
            written = raw.startswith("+") or (
                digits >= 10 and re.search(r"[\s().-]", raw) is not None and _grouped_as_phone(lib, raw, region)
            )
            if not said and (not (valid and written) or ID_WORDS.search(before)):
                continue  # ids, amounts and sums are digit runs as often as phone numbers are
            start, end = _whole_number(text, match.start, match.end)
            if not said and (start, end) != (match.start, match.end):
                continue  # part of a longer run of digits (an account or reference number), and nobody said phone
            name = lib.region_code_for_number(match.number) or region
            why = f"a valid phone number ({name})" if valid else "a number after a word like 'phone'"
            found.setdefault((start, end), Span("phone", start, end, text[start:end], why, 0.9))
    return list(found.values())


def _grouped_as_phone(lib, raw: str, region: str) -> bool:  # type: ignore[no-untyped-def]
    """A national number whose digits are grouped the way the country writes phone numbers ('020 7946 0958', not
    '2024-000123-45', an order number's grouping)."""
    return any(m.raw_string == raw for m in lib.PhoneNumberMatcher(raw, region, leniency=lib.Leniency.STRICT_GROUPING))


def _whole_number(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole run of digits and separators a match sits in ('01519 5725999' where a region read '5725999'): a
    redaction of part of a number leaks the rest."""
    for run in PHONE_RUN.finditer(text):
        if run.start() <= start and end <= run.end() and sum(c.isdigit() for c in run.group()) <= 15:
            return run.start(), run.end()
    return start, end


# the order decides overlaps, the strictest checks first: an IBAN holds card-like digit runs, and an IP address or
# a Luhn-valid card number in a network's range is also a digit pattern some country's phone plan allows
DETECTORS = {"email": _emails, "iban": _ibans, "secret": _secrets, "ip": _ips, "card": _cards, "phone": _phones}


def find_pii(text: str, kinds: tuple[str, ...] = KINDS) -> list[Span]:
    """Every span in `text` of the kinds asked for, without overlaps: where two overlap, the one found first in
    DETECTORS' order wins."""
    spans: list[Span] = []
    for kind, detect in DETECTORS.items():
        if kind not in kinds:
            continue
        for span in detect(text):
            if all(span.end <= s.start or span.start >= s.end for s in spans):
                spans.append(span)
    return sorted(spans, key=lambda s: s.start)
