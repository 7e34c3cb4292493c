"""A small, realistic corpus for ranking tests: an HTTP utility package with near-miss distractors.

Modelled on Django's utilities: ``parse_http_date`` must beat the functions that share its words
(``http_date`` formats dates for headers, ``parse_date`` parses ISO dates, ``parse_header_name``
parses header names, ``was_modified_since`` calls ``parse_http_date``).
"""

HTTP_PY = '''\
"""HTTP helpers: dates, ETags and query strings."""

import calendar
import datetime
import re
from email.utils import formatdate
from urllib.parse import quote, urlencode as original_urlencode

ETAG_MATCH = re.compile(r'\\A((?:W/)?"[^"]*")\\Z')
MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
RFC1123_DATE = re.compile(r"^\\w{3}, (?P<day>\\d{2}) (?P<mon>\\w{3}) (?P<year>\\d{4}) (?P<hour>\\d{2}):(?P<min>\\d{2}):(?P<sec>\\d{2}) GMT$")


def urlencode(query, doseq=False):
    """A version of urllib.parse.urlencode() that accepts sequences of pairs and lazy strings."""
    if isinstance(query, dict):
        query = query.items()
    return original_urlencode([(k, str(v)) for k, v in query], doseq)


def http_date(epoch_seconds=None):
    """Format the time to match the RFC 5322 date format as specified by RFC 9110 Section 5.6.7.

    Output looks like 'Wed, 21 Oct 2015 07:28:00 GMT'.
    """
    return formatdate(epoch_seconds, usegmt=True)


def parse_http_date(date):
    """Parse a date format as specified by HTTP RFC 9110 Section 5.6.7.

    The three formats allowed by the RFC are accepted, even if only the first one is still in
    widespread use. Return an integer expressed in seconds since the epoch, in UTC.
    """
    m = RFC1123_DATE.match(date)
    if m is None:
        raise ValueError("%r is not in a valid HTTP date format" % date)
    year = int(m["year"])
    month = MONTHS.index(m["mon"].lower()) + 1
    day = int(m["day"])
    hour, minute, second = int(m["hour"]), int(m["min"]), int(m["sec"])
    result = datetime.datetime(year, month, day, hour, minute, second)
    return calendar.timegm(result.utctimetuple())


def parse_http_date_safe(date):
    """Same as parse_http_date, but return None if the input is invalid."""
    try:
        return parse_http_date(date)
    except Exception:
        pass


def parse_etags(etag_str):
    """Parse a string of ETags given in an If-None-Match or If-Match header as defined by RFC 9110.

    Return a list of quoted ETags, or ['*'] if all ETags should be matched.
    """
    if etag_str.strip() == "*":
        return ["*"]
    etags = (ETAG_MATCH.match(etag.strip()) for etag in etag_str.split(","))
    return [match[1] for match in etags if match]


def quote_etag(etag_str):
    """If the provided string is already a quoted ETag, return it. Otherwise, wrap the string in
    quotes, making it a strong ETag."""
    if ETAG_MATCH.match(etag_str):
        return etag_str
    return '"%s"' % etag_str
'''

DATES_PY = '''\
"""Functions to parse datetime objects from ISO 8601 strings."""

import datetime
import re

date_re = re.compile(r"(?P<year>\\d{4})-(?P<month>\\d{1,2})-(?P<day>\\d{1,2})$")
time_re = re.compile(r"(?P<hour>\\d{1,2}):(?P<minute>\\d{1,2})(?::(?P<second>\\d{1,2}))?")


def parse_date(value):
    """Parse a string and return a datetime.date.

    Raise ValueError if the input is well formatted but not a valid date.
    Return None if the input isn't well formatted.
    """
    match = date_re.match(value)
    if match:
        kw = {k: int(v) for k, v in match.groupdict().items()}
        return datetime.date(**kw)


def parse_time(value):
    """Parse a string and return a datetime.time. This function doesn't support time zone offsets."""
    match = time_re.match(value)
    if match:
        kw = {k: int(v) for k, v in match.groupdict().items() if v is not None}
        return datetime.time(**kw)


def parse_duration(value):
    """Parse a duration string and return a datetime.timedelta, e.g. '3 days, 10:15:30'."""
    days, _, rest = value.partition(" days, ")
    hours, minutes, seconds = (int(part) for part in rest.split(":"))
    return datetime.timedelta(days=int(days), hours=hours, minutes=minutes, seconds=seconds)
'''

REQUEST_PY = '''\
"""The request object and its headers."""

from .datastructures import CaseInsensitiveMapping


class HttpHeaders(CaseInsensitiveMapping):
    """HTTP request headers taken from a WSGI environ, keyed by their usual header name."""

    HTTP_PREFIX = "HTTP_"
    # PEP 333 gives two headers which aren't prepended with HTTP_.
    UNPREFIXED_HEADERS = {"CONTENT_TYPE", "CONTENT_LENGTH"}

    def __init__(self, environ):
        headers = {}
        for header, value in environ.items():
            name = self.parse_header_name(header)
            if name:
                headers[name] = value
        super().__init__(headers)

    @classmethod
    def parse_header_name(cls, header):
        """Turn a WSGI environ key such as HTTP_ACCEPT_ENCODING into the header name Accept-Encoding."""
        if header.startswith(cls.HTTP_PREFIX):
            header = header.removeprefix(cls.HTTP_PREFIX)
        elif header not in cls.UNPREFIXED_HEADERS:
            return None
        return header.replace("_", "-").title()


class HttpRequest:
    """A basic HTTP request."""

    def __init__(self):
        self.GET = {}
        self.POST = {}
        self.META = {}
        self.path = ""
        self.method = None

    def get_host(self):
        """Return the HTTP host using the environment or request headers."""
        return self.META.get("HTTP_HOST") or self.META["SERVER_NAME"]

    def is_secure(self):
        return self.META.get("wsgi.url_scheme") == "https"
'''

CACHE_PY = '''\
"""Caching helpers for views: conditional responses and cache headers."""

import time

from .http import http_date, parse_etags, parse_http_date_safe, quote_etag


def was_modified_since(header=None, mtime=0):
    """Was something modified since the user last downloaded it?

    header: the value of the If-Modified-Since header. mtime: modification time of the item.
    """
    try:
        header_mtime = parse_http_date_safe(header)
        if header_mtime is None or int(mtime) > header_mtime:
            raise ValueError
    except (ValueError, OverflowError):
        return True
    return False


def patch_response_headers(response, cache_timeout):
    """Add HTTP caching headers to the given response: Expires and Cache-Control max-age."""
    if not response.has_header("Expires"):
        response.headers["Expires"] = http_date(time.time() + cache_timeout)
    response.headers["Cache-Control"] = "max-age=%d" % cache_timeout


def set_response_etag(response):
    """Set the ETag header of a response from the hash of its content."""
    if not response.streaming and response.content:
        response.headers["ETag"] = quote_etag(str(hash(response.content)))
    return response


def if_none_match_passes(target_etag, etags):
    """Test the If-None-Match comparison as defined in RFC 9110 Section 13.1.2."""
    if not target_etag:
        return True
    return target_etag not in parse_etags(etags)
'''

TEXT_PY = '''\
"""Text helpers."""

import re
import unicodedata


def slugify(value, allow_unicode=False):
    """Convert to ASCII, lowercase, drop characters that aren't alphanumerics, underscores or
    hyphens, and turn spaces into hyphens: 'Hello World!' becomes 'hello-world'."""
    value = str(value)
    if not allow_unicode:
        value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\\w\\s-]", "", value.lower())
    return re.sub(r"[-\\s]+", "-", value).strip("-_")


def get_text_list(items, last_word="or"):
    """Join a list of words into an English phrase: ['a', 'b', 'c'] gives 'a, b or c'."""
    if not items:
        return ""
    if len(items) == 1:
        return str(items[0])
    return "%s %s %s" % (", ".join(str(i) for i in items[:-1]), last_word, items[-1])


class Truncator:
    """Shorten text to a number of characters or words."""

    def __init__(self, text):
        self.text = text

    def chars(self, num, truncate="…"):
        """Return the text truncated to be no longer than num characters."""
        if len(self.text) <= num:
            return self.text
        return self.text[: num - len(truncate)] + truncate

    def words(self, num, truncate="…"):
        """Truncate a string after a certain number of words."""
        words = self.text.split()
        if len(words) <= num:
            return self.text
        return " ".join(words[:num]) + truncate
'''

README_MD = """\
# webkit

Small helpers for web applications.

## Dates

Use `parse_http_date` to read the `If-Modified-Since` header and `http_date` to write `Expires`.
Dates in ISO 8601 form are read with `parse_date` and `parse_time`.

## Text

`slugify` turns titles into URL slugs; `Truncator` shortens text.
"""

WEBKIT = {
    "webkit/__init__.py": '"""webkit: small helpers for web applications."""\n',
    "webkit/http.py": HTTP_PY,
    "webkit/dates.py": DATES_PY,
    "webkit/request.py": REQUEST_PY,
    "webkit/cache.py": CACHE_PY,
    "webkit/text.py": TEXT_PY,
    "README.md": README_MD,
}
