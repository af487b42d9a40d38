"""Browses the LAN for Wyoming services (`_wyoming._tcp.local.`) with python-zeroconf, the
library Home Assistant discovers them with; prints each one found as a JSON line."""

import argparse
import json
import time

from zeroconf import ServiceBrowser, ServiceListener, Zeroconf

TYPE = "_wyoming._tcp.local."


class Found(ServiceListener):
    def __init__(self, port):
        self.names = set()
        self.port = port
        self.done = False

    def add_service(self, zc, type_, name):
        info = zc.get_service_info(type_, name, timeout=3000)
        if info is None or name in self.names:
            return
        self.names.add(name)
        print(json.dumps({"name": name, "port": info.port,
                          "addresses": info.parsed_addresses()}), flush=True)
        if info.port == self.port:
            self.done = True

    update_service = add_service

    def remove_service(self, zc, type_, name):
        pass


p = argparse.ArgumentParser()
p.add_argument("--seconds", type=float, default=10)
p.add_argument("--port", type=int, help="stop once a service on this port is found")
a = p.parse_args()
zc = Zeroconf()
found = Found(a.port)
ServiceBrowser(zc, TYPE, found)
deadline = time.time() + a.seconds
while time.time() < deadline and not found.done:
    time.sleep(0.2)
zc.close()
