"""A real SMTP server for the messaging tests (aiosmtpd from PyPI): every message it accepts is
written as one JSON line {"rcpt", "from", "subject", "message_id", "body"} to the file named on
the command line, with the body decoded (so UTF-8 Korean can be compared as text).

    python smtp_sink.py PORT OUT.jsonl
"""
import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        line = {
            "rcpt": envelope.rcpt_tos,
            "from": envelope.mail_from,
            "subject": str(msg["subject"] or ""),
            "message_id": str(msg["message-id"] or ""),
            "body": body.get_content() if body is not None else "",
        }
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        return "250 OK"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    c = Controller(Sink(out), hostname="127.0.0.1", port=port)
    c.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        c.stop()


if __name__ == "__main__":
    main()
