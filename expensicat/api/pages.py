"""The few HTML pages people see (sign-in, consent, errors): plain, self-contained (styles
inline, no scripts, nothing fetched from elsewhere), and never framed by another site."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from starlette.responses import HTMLResponse

# No script, no outside resource; no other site may frame a page (clickjacking).
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

_STYLE = """
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center;
  justify-content: center; background: #f4f5f7; color: #1d2330;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { width: 100%; max-width: 26rem; margin: 2rem 1rem; padding: 2rem 2rem 1.5rem;
  background: #fff; border-radius: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.08),
  0 8px 24px rgba(0,0,0,.06); }
.brand { font-weight: 600; color: #5b4bdb; letter-spacing: .02em; margin: 0 0 1rem; }
h1 { font-size: 1.35rem; margin: 0 0 1rem; }
label { display: block; font-size: .9rem; font-weight: 500; margin: 1rem 0 .3rem; }
input[type=email], input[type=password], input[type=text] { width: 100%;
  padding: .6rem .75rem; font: inherit; border: 1px solid #c9ced8; border-radius: 8px; }
input:focus { outline: 2px solid #5b4bdb; outline-offset: 1px; border-color: #5b4bdb; }
button { font: inherit; font-weight: 600; padding: .65rem 1.2rem; border-radius: 8px;
  border: 1px solid #5b4bdb; background: #5b4bdb; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #1d2330; border-color: #c9ced8; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
.actions button { flex: 1; }
.error { background: #fdecec; color: #8a1c1c; border-radius: 8px; padding: .6rem .8rem; }
.muted { color: #5f6b7a; font-size: .9rem; }
ul.scopes { padding-left: 1.2rem; }
ul.scopes li { margin: .35rem 0; }
"""


def page(
    title: str, body: str, status: int = 200, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    """A page; `body` is HTML already escaped by its author."""
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Expensicat</title><style>{_STYLE}</style></head>"
        f'<body><main><p class="brand">Expensicat</p>{body}</main></body></html>'
    )
    return HTMLResponse(html, status, {**PAGE_HEADERS, **(headers or {})})


def hidden(fields: Mapping[str, str]) -> str:
    """Hidden inputs carrying `fields` through a form, escaped."""
    return "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )


def error_page(title: str, message: str, status: int = 400) -> HTMLResponse:
    return page(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>", status)
