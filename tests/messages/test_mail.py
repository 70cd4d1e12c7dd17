"""E-mail through SMTP, against a minimal SMTP server on 127.0.0.1 (no network beyond it)."""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes

from respijt.messages import mail


class _SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                self.wfile.write(b"250 test\r\n")
            elif command.startswith((b"MAIL", b"RCPT", b"RSET", b"NOOP")):
                self.wfile.write(b"250 OK\r\n")
            elif command == b"DATA":
                self.wfile.write(b"354 go\r\n")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                self.server.received.append(data)  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 no\r\n")


def test_smtp_backend_delivers_the_message():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings = mail.MailSettings(
            backend="smtp",
            sender="respijt@example.nl",
            host="127.0.0.1",
            port=server.server_address[1],
            starttls=False,
        )
        mail.send_mail(settings, "ria@example.nl", "Uitnodiging voor respijt", "Welkom, Ria.")
    finally:
        server.shutdown()
        server.server_close()
    [raw] = server.received  # type: ignore[attr-defined]
    message = message_from_bytes(raw)
    assert message["To"] == "ria@example.nl" and message["From"] == "respijt@example.nl"
    assert message["Subject"] == "Uitnodiging voor respijt"
    assert "Welkom, Ria." in message.get_payload(decode=True).decode()


def test_unknown_mail_backend_is_refused():
    import pytest

    with pytest.raises(RuntimeError, match="RESPIJT_MAIL_BACKEND"):
        mail.send_mail(mail.MailSettings(backend="duif", sender="x@y"), "a@b", "s", "b")
