"""Plain-Python parsing and validation of what a user types into the lead form.

No Rasa here: actions/leads.py calls these, and tests/bot/test_lead_fields.py tests
them directly. Every `clean_*` returns the normalised value or None when invalid.

English and Japanese: input is NFKC-normalised first (full-width "０９０", "＠", "（株）"
become "090", "@", "(株)"); Japanese names are family name first and kept as typed
("田中太郎", "たなか はなこ"), with "です", "と申します", "名前は…" taken off; Japanese
numbers are read in region JP when the conversation is Japanese (`regions_for`).
"""
from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass

import phonenumbers

from desk.language import normalise

NO_COMPANY = "none"  # the company slot's value for private customers
INTEREST_CHOICES = ("Bulk order", "Corporate gifts", "Business account")

# Words that are never a name or a company on their own: chat noise, yes/no, stop.
_CHAT_WORDS = {
    "yes", "yeah", "yep", "no", "nope", "ok", "okay", "sure", "hi", "hello", "hey",
    "thanks", "thank", "you", "bye", "goodbye", "stop", "cancel", "help", "what",
    "why", "how", "hmm", "idk", "dunno", "?", "test",
}
# Words that turn a message into a sentence rather than a name.
_SENTENCE_WORDS = {
    "i", "i'd", "i'm", "me", "my", "we", "our", "you", "your", "want", "would", "like",
    "need", "please", "quote", "order", "how", "what", "when", "where", "why", "is",
    "are", "can", "do", "does", "the", "a", "an", "to", "for", "of", "with", "not",
    "don't", "dont",
}
_QUESTION_STARTERS = {
    "what", "what's", "whats", "when", "where", "why", "how", "who", "which", "do",
    "does", "did", "can", "could", "will", "would", "should", "is", "are", "am", "was",
    "were", "have", "has", "may", "shall", "any",
}
_NAME_PREFIX = re.compile(r"^(?:(?:my|full)\s+name\s+is|name\s*[:=]|i\s*'?\s*a?m|it\s*'?\s*s|"
                          r"this\s+is|call\s+me|you\s+can\s+call\s+me)\s+", re.I)
_COMPANY_PREFIX = re.compile(
    r"^(?:(?:my|our|the)\s+company(?:\s+name)?\s+is|company\s*[:=]|i\s+work\s+(?:at|for)|"
    r"we\s*'?\s*re|we\s+are|it\s*'?\s*s|from)\s+", re.I)
_NO_COMPANY = re.compile(r"^(?:none|no|n/?a|-+|nothing|no company|not a company|private|"
                         r"just me|myself|it'?s (?:just )?for me|personal|individual)$", re.I)
_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[\s'’.\-][^\W\d_]*)*$")
# ASCII only: "メールはtanaka@example.jpです" holds "tanaka@example.jp" (NFKC first: "＠").
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")

# -- Japanese ---------------------------------------------------------------------------
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_JA_TRAILING = "。、！!？?〜~…・ 　"
# "名前は田中です", "私の名前は田中太郎です", "氏名：田中太郎"
_JA_NAME_PREFIX = re.compile(r"^(?:(?:私|わたし|わたくし|僕|ぼく|俺|おれ|自分)の?)?(?:お?名前|なまえ|氏名)\s*(?:は|:|=)?\s*")
# "田中です", "田中太郎と申します", "たなかでーす", "田中だよ"
_JA_COPULA = re.compile(r"\s*(?:と申します|ともうします|といいます|と言います|でございます|になります|"
                        r"です|でーす|でした|っす|だよ|だ|で(?:お願いします|おねがいします))$")
_JA_CHAT_WORDS = {
    "はい", "いいえ", "うん", "ええ", "いや", "おけ", "おっけー", "りょ", "よろしく", "よろしくお願いします",
    "こんにちは", "こんばんは", "おはよう", "ありがとう", "ありがとうございます", "すみません", "すいません",
    "わからない", "わかりません", "やめる", "やめます", "キャンセル", "ストップ", "テスト", "なし", "名前",
    "お名前", "会社", "会社名", "なに", "何",
}
# Not a name: a request or a question ("見積もりがほしい", "注文したいです").
_JA_SENTENCE = re.compile(r"したい|たいです|たいん|ほしい|欲しい|ください|下さい|ます$|ません|お願い|おねがい|"
                          r"教えて|について|見積|注文|できる|ですか|でしょう|[?]")
_JA_NAME_MAX = 20  # characters of a Japanese name without spaces
# "会社名は株式会社クモです", "弊社は…", "株式会社クモで働いています"
_JA_COMPANY_PREFIX = re.compile(r"^(?:(?:会社名|会社|勤務先|勤め先|所属|社名|法人名)\s*(?:は|:|=)|(?:弊社|当社|うち)は)\s*")
_JA_COMPANY_SUFFIX = re.compile(r"\s*(?:で働いています|で働いてます|で働いてる|に勤めています|に勤めてます|"
                                r"に勤務しています|に勤務してます|の者です|のものです|です|でーす|だよ|になります)$")
_JA_NO_COMPANY = re.compile(r"^(?:なし|無し|ナシ|ない|無い|ありません|特になし|とくになし|特にない|個人|個人で|"
                            r"個人利用|個人的に|個人用|自分用|じぶんよう|会社なし|ないです|会社員じゃない)$")
# "名前は…です", "メールは…に変更して", "電話番号：…" while another question is asked
_JA_FIELD_WORDS = {
    "名前": "lead_name", "お名前": "lead_name", "なまえ": "lead_name", "氏名": "lead_name",
    "メール": "lead_email", "メールアドレス": "lead_email", "アドレス": "lead_email", "メアド": "lead_email",
    "会社": "lead_company", "会社名": "lead_company", "社名": "lead_company", "勤務先": "lead_company",
    "電話": "lead_phone", "電話番号": "lead_phone", "番号": "lead_phone", "携帯": "lead_phone",
    "携帯番号": "lead_phone", "用件": "lead_interest", "ご用件": "lead_interest",
}
_JA_FIELD = "|".join(sorted((re.escape(w) for w in _JA_FIELD_WORDS), key=len, reverse=True))
_JA_CHANGE = r"(?:に変更して(?:ください|下さい)?|に変えて(?:ください|下さい)?|にして(?:ください|下さい)?|に訂正)"
_JA_CORRECTION = re.compile(
    rf"^(?:(?:あ|あっ|すみません|すいません|ごめんなさい|ごめん|訂正|やっぱり|いや)[、,\s!]*)*"
    rf"(?:私の|僕の|わたしの)?(?P<field>{_JA_FIELD})\s*"
    rf"(?:(?:は|:|=)\s*(?P<value>.+?)(?:{_JA_CHANGE}|でお願いします|です|でした)?"
    rf"|を\s*(?P<changed>.+?){_JA_CHANGE})[{_JA_TRAILING}]*$")
_JA_QUESTION = re.compile(r"(?:ですか|ますか|でしょうか|かな|かしら|っけ|の\?|か\?)$|"
                          r"(?:^|[はのでって])(?:なに|何|なん|いつ|どこ|どう|どの|どれ|なぜ|なんで|いくら|だれ|誰)")


def is_japanese(text: str) -> bool:
    return bool(_JAPANESE.search(text or ""))

# "actually my email is …", "sorry, the company name should be …", "change my phone to …"
_FIELD_WORDS = {
    "name": "lead_name", "full name": "lead_name",
    "email": "lead_email", "e-mail": "lead_email", "email address": "lead_email",
    "e-mail address": "lead_email", "mail": "lead_email",
    "company": "lead_company", "company name": "lead_company", "business": "lead_company",
    "phone": "lead_phone", "phone number": "lead_phone", "number": "lead_phone",
    "mobile": "lead_phone", "mobile number": "lead_phone",
    "interest": "lead_interest",
}
_FIELD = "|".join(sorted((re.escape(w) for w in _FIELD_WORDS), key=len, reverse=True))
_CORRECTION = re.compile(
    rf"^(?:(?:no|oh|oops|sorry|wait|actually|correction|hang on)\b[\s,.:!-]*)*"
    rf"(?:(?:my|the|our)\s+(?P<f1>{_FIELD})\s+(?:is|was|should\s+be|=|:)|"
    rf"(?P<f2>{_FIELD})\s*[:=]|"
    rf"(?:change|update|set|correct)\s+(?:my|the|our)\s+(?P<f3>{_FIELD})\s+to)"
    rf"\s*(?P<value>.+?)\s*[.!]*$", re.I)


@dataclass(frozen=True)
class Correction:
    slot: str
    value: str


def parse_correction(text: str) -> Correction | None:
    """`actually my email is x@y.com` → Correction("lead_email", "x@y.com");
    `あ、メールは x@y.jp に変更してください` → the same in Japanese."""
    text = normalise(text).strip()
    if is_japanese(text):
        match = _JA_CORRECTION.match(text)
        value = ((match["value"] or match["changed"] or "") if match else "").strip(_JA_TRAILING)
        return Correction(_JA_FIELD_WORDS[match["field"]], value) if value else None
    match = _CORRECTION.match(text)
    if not match:
        return None
    field = (match["f1"] or match["f2"] or match["f3"]).lower()
    field = " ".join(field.split())
    return Correction(_FIELD_WORDS[field], match["value"].strip())


def is_question(text: str) -> bool:
    """Does the message read like a question (and so not like a form answer)?"""
    text = normalise(text).strip().lower()
    if not text:
        return False
    if text.endswith("?"):
        return True
    if is_japanese(text):
        return bool(_JA_QUESTION.search(text.rstrip(_JA_TRAILING.replace("?", ""))))
    first = re.split(r"[\s,]+", text, maxsplit=1)[0]
    return first in _QUESTION_STARTERS


def _tidy(text: str) -> str:
    return " ".join((text or "").split()).strip(" .,!;:\"'")


def _clean_japanese_name(text: str) -> str | None:
    name = _JA_NAME_PREFIX.sub("", text.strip(_JA_TRAILING))
    name = _JA_COPULA.sub("", name).strip(_JA_TRAILING)
    name = " ".join(name.split())
    if not name or name in _JA_CHAT_WORDS or _JA_SENTENCE.search(name):
        return None
    if len(name.replace(" ", "")) > _JA_NAME_MAX or len(name.split()) > 3:
        return None
    if not re.fullmatch(r"[^\W\d_]+(?:[\s'’.\-・=][^\W\d_]+)*", name):
        return None
    return name


def clean_name(text: str) -> str | None:
    """A person's name as typed, without "my name is" / "です"; None if it isn't one.
    Japanese names stay family name first, as typed: "田中 太郎", "たなかはなこ"."""
    text = normalise(text)
    if is_japanese(text):
        return _clean_japanese_name(text)
    name = _tidy(_NAME_PREFIX.sub("", _tidy(text)))
    words = name.lower().split()
    if not words or len(name) > 80 or len(words) > 5:
        return None
    if not _NAME_CHARS.match(name):
        return None
    if all(w in _CHAT_WORDS for w in words) or any(w in _SENTENCE_WORDS for w in words):
        return None
    return name


def _clean_japanese_company(text: str) -> str | None:
    company = _JA_COMPANY_PREFIX.sub("", text.strip(_JA_TRAILING))
    company = _JA_COMPANY_SUFFIX.sub("", company).strip(_JA_TRAILING)
    company = " ".join(company.split())
    if _JA_NO_COMPANY.match(company):
        return NO_COMPANY
    if not company or len(company) > 120 or "@" in company or company in _JA_CHAT_WORDS:
        return None
    return company


def clean_company(text: str) -> str | None:
    """The company name, NO_COMPANY for private customers; None if unusable. Japanese
    company names are kept as typed (after NFKC): "株式会社クモ", "クモ株式会社", "(株)クモ"."""
    text = normalise(text)
    if is_japanese(text):
        return _clean_japanese_company(text)
    company = _tidy(_COMPANY_PREFIX.sub("", _tidy(text)))
    if _NO_COMPANY.match(company):
        return NO_COMPANY
    words = company.lower().split()
    if not words or len(company) > 120 or "@" in company:
        return None
    if all(w in _CHAT_WORDS for w in words):
        return None
    return company


def clean_interest(text: str) -> str | None:
    """What the lead wants, a few words to a paragraph."""
    interest = _tidy(normalise(text))
    for choice in INTEREST_CHOICES:
        if interest.lower() == choice.lower():
            return choice
    if is_japanese(interest):  # "名刺" is two characters and a whole answer
        interest = interest.strip(_JA_TRAILING)
        if len(interest) < 2 or len(interest) > 500 or interest in _JA_CHAT_WORDS:
            return None
        return interest
    words = interest.lower().split()
    if len(interest) < 3 or len(interest) > 500 or all(w in _CHAT_WORDS for w in words):
        return None
    return interest


def clean_email(text: str) -> str | None:
    """The first well-formed address in `text` (domain lower-cased), else None.

    `email.utils.parseaddr` handles "Kerry <kerry@acme.com>"; the checks after it
    are what a mail server would refuse: an empty or dotted-wrong local part, a
    domain without a dot, labels with bad characters, a numeric top-level domain.
    """
    text = normalise(text).strip()
    candidates = _EMAIL_IN_TEXT.findall(text) or [text]
    for candidate in candidates:
        _, address = email.utils.parseaddr(candidate.strip("'").rstrip(".,;:!?'"))
        address = address.strip().rstrip(".")
        if address.count("@") != 1:
            continue
        local, domain = address.split("@")
        domain = domain.lower()
        if not local or len(local) > 64 or not _LOCAL_PART.match(local):
            continue
        labels = domain.split(".")
        if len(domain) > 253 or len(labels) < 2:
            continue
        if not all(_DOMAIN_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
            continue
        return f"{local}@{domain}"
    return None


def region_of(wa_id: str | None, default: str = "GB") -> str:
    """The region of a WhatsApp number, to read numbers typed without a country code."""
    if wa_id:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + wa_id.lstrip("+")))
            if region and region != "ZZ":
                return region
        except phonenumbers.NumberParseException:
            pass
    return default


def regions_for(wa_id: str | None, language: str | None = None, default: str = "GB") -> tuple[str, ...]:
    """Where to read a number typed without a country code, in order: Japan first in a
    Japanese conversation, then the WhatsApp number's region (JP for +81), then `default`."""
    regions = (["JP"] if language == "ja" else []) + [region_of(wa_id, default)]
    return tuple(dict.fromkeys(regions))


def clean_phone(text: str, region: str | tuple[str, ...] = "GB") -> str | None:
    """A valid phone number in E.164 (+447700900123, +819012345678), read in `region`
    (the first of several in which it is valid) if it has no +. Japanese forms:
    "090-1234-5678", "+81 90 1234 5678", "09012345678", full-width "０９０－１２３４－５６７８"."""
    raw = normalise(text).strip().replace("ー", "-").replace("−", "-")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    for one in (region,) if isinstance(region, str) else region:
        try:
            number = phonenumbers.parse(raw, one)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def phones_in(text: str, regions: tuple[str, ...] = ("GB",)) -> tuple[str, ...]:
    """Valid phone numbers anywhere in a sentence ("電話は090-1234-5678です"), E.164."""
    text = normalise(text).replace("ー", "-").replace("−", "-")
    found: list[str] = []
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            found.append(phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
        if found:
            break
    return tuple(dict.fromkeys(found))


def emails_in(text: str) -> tuple[str, ...]:
    """Well-formed addresses anywhere in a sentence ("メールはtanaka@example.jpです")."""
    found = (clean_email(c) for c in _EMAIL_IN_TEXT.findall(normalise(text)))
    return tuple(dict.fromkeys(e for e in found if e))


def whatsapp_phone(wa_id: str | None) -> str | None:
    """The user's WhatsApp number in E.164 (wa_id is the number without '+')."""
    if not wa_id or not str(wa_id).isdigit():
        return None
    return clean_phone("+" + str(wa_id)) or f"+{wa_id}"
