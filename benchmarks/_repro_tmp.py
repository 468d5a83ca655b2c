import json, socket, sys, time, http.client
from benchmarks.benchmark import Service, DEFAULT_MODELS
with Service(DEFAULT_MODELS) as s:
    port = s.port
    # chunked 6 MB
    def chunked(body):
        c = socket.create_connection(("127.0.0.1", port), timeout=30)
        c.sendall(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for i in range(0, len(body), 65536):
            part = body[i:i+65536]
            c.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
        c.sendall(b"0\r\n\r\n")
        data = b""
        while True:
            d = c.recv(65536)
            if not d: break
            data += d
        return data.split(b"\r\n")[0], data[-300:]
    small = json.dumps({"text": "Ministers met in Geneva for talks."}).encode() + b" " * (6 * 2**20)
    print("chunked padded:", chunked(small))
    print("chunked long text:", chunked(json.dumps({"text": "Talks. " * (6 * 2**20 // 7)}).encode())[0])
    c = http.client.HTTPConnection("127.0.0.1", port); c.request("DELETE", "/v1/analyze"); r = c.getresponse(); print("405:", r.status, r.getheader("Allow"))
