"""/.well-known/security.txt (RFC 9116): contact, an expiry within the year, languages and the
canonical address, all from the settings at the time of the request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from respijt import clock


def fields(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(": ")
        assert name and value, line
        assert name not in out, f"{name} twice"
        out[name] = value
    return out


def test_security_txt_names_the_contact_and_expires_within_a_year(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "RESPIJT_PUBLIC_URL", "https://logeren.example.nl")
    monkeypatch.setitem(app.config, "RESPIJT_SECURITY_CONTACT", "")
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    found = fields(response.get_data(as_text=True))
    assert found["Contact"] == "mailto:security@logeren.example.nl"  # the documented default
    assert found["Preferred-Languages"] == "nl, en"
    assert found["Canonical"] == "https://logeren.example.nl/.well-known/security.txt"
    expires = datetime.strptime(found["Expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert clock.now() + timedelta(days=30) < expires < clock.now() + timedelta(days=365)

    # Computed when asked: a year on, it still lies ahead.
    clock.freeze(clock.now() + timedelta(days=400))
    later = fields(client.get("/.well-known/security.txt").get_data(as_text=True))
    assert datetime.strptime(later["Expires"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=UTC
    ) > clock.now() + timedelta(days=30)

    monkeypatch.setitem(app.config, "RESPIJT_SECURITY_CONTACT", "https://example.nl/melden")
    again = fields(client.get("/.well-known/security.txt").get_data(as_text=True))
    assert again["Contact"] == "https://example.nl/melden"
