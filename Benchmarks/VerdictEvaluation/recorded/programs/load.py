#!/usr/bin/env python3
"""Load clients for the recorded series: real TCP clients speaking RESP (redis) and the
memcached text protocol, paced on 100 ms ticks.

  load.py redis --port P [options]
  load.py memcached --port P [options]

Per tick it sends, pipelined:
  * churn: GET/SET on a fixed keyset of --base-keys keys (values --value-min..--value-max bytes),
    --base-ops ops/s, half GETs; the keyset is written once at start;
  * --leak-keys R: R keys/s under never-repeating names, no TTL (redis) — unbounded growth;
    --leak-after S delays them to S seconds after start;
  * --unique-keys R: R keys/s under never-repeating names (for a maxmemory cap to evict);
  * --ttl-keys R with --ttl T: R keys/s under new names with a TTL of T s; with --period P and
    --amplitude A the rate is R * (1 + A sin(2 pi t / P)) (a compressed daily cycle).
Reconnects (every second) when the server goes away, e.g. under a supervisor restarting it.
"""
import argparse, math, random, socket, sys, time

def parse():
    p = argparse.ArgumentParser()
    p.add_argument('protocol', choices=['redis', 'memcached'])
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--base-keys', type=int, default=0)
    p.add_argument('--base-ops', type=float, default=0)
    p.add_argument('--leak-keys', type=float, default=0)
    p.add_argument('--leak-after', type=float, default=0)
    p.add_argument('--unique-keys', type=float, default=0)
    p.add_argument('--ttl-keys', type=float, default=0)
    p.add_argument('--ttl', type=int, default=60)
    p.add_argument('--period', type=float, default=0)
    p.add_argument('--amplitude', type=float, default=0)
    p.add_argument('--value-min', type=int, default=100)
    p.add_argument('--value-max', type=int, default=600)
    p.add_argument('--seconds', type=float, default=1e18)
    p.add_argument('--seed', type=int, default=1)
    return p.parse_args()

class Conn:
    def __init__(self, port, protocol):
        self.port, self.protocol, self.sock, self.buf = port, protocol, None, b''
    def connect(self):
        while True:
            try:
                self.sock = socket.create_connection(('127.0.0.1', self.port), timeout=10)
                self.buf = b''
                return
            except OSError:
                time.sleep(1)
    def readline(self):
        while b'\r\n' not in self.buf:
            data = self.sock.recv(65536)
            if not data: raise OSError('closed')
            self.buf += data
        line, self.buf = self.buf.split(b'\r\n', 1)
        return line
    def readexact(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data: raise OSError('closed')
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
    def redis_reply(self):
        line = self.readline()
        if line[:1] == b'$':
            n = int(line[1:])
            if n >= 0: self.readexact(n + 2)
        elif line[:1] == b'-':
            sys.stderr.write('redis error: %r\n' % line)

def resp(*args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)

def main():
    a = parse()
    rnd = random.Random(a.seed)
    c = Conn(a.port, a.protocol)
    c.connect()
    value = lambda: b'v' * rnd.randint(a.value_min, a.value_max)
    def cmd_set(key, ttl=None):
        v = value()
        if a.protocol == 'redis':
            return (resp('SET', key, v, 'EX', ttl) if ttl else resp('SET', key, v)), 1
        return b'set %s 0 %d %d noreply\r\n%s\r\n' % (key.encode(), ttl or 0, len(v), v), 0
    def cmd_get(key):
        if a.protocol == 'redis':
            return resp('GET', key), 1
        return b'get %s\r\n' % key.encode(), 'END'
    def send(cmds):
        payload = b''.join(x[0] for x in cmds)
        c.sock.sendall(payload)
        for _, reply in cmds:
            if a.protocol == 'redis':
                for _ in range(reply): c.redis_reply()
            elif reply == 'END':
                while c.readline() != b'END': pass
    def prefill():
        for i in range(0, a.base_keys, 500):
            send([cmd_set('base:%d' % k) for k in range(i, min(i + 500, a.base_keys))])
    if a.protocol == 'redis': prefill()   # memcached: warms up from traffic alone
    start = time.monotonic()
    tick, owed = 0, {'base': 0.0, 'leak': 0.0, 'uniq': 0.0, 'ttl': 0.0}
    seq = {'leak': 0, 'uniq': 0, 'ttl': 0}
    while True:
        tick += 1
        t = time.monotonic() - start
        if t >= a.seconds: break
        dt = 0.1
        cmds = []
        owed['base'] += a.base_ops * dt
        while owed['base'] >= 1 and a.base_keys:
            owed['base'] -= 1
            k = 'base:%d' % rnd.randrange(a.base_keys)
            cmds.append(cmd_get(k) if rnd.random() < 0.5 else cmd_set(k))
        if a.leak_keys and t >= a.leak_after:
            owed['leak'] += a.leak_keys * dt
            while owed['leak'] >= 1:
                owed['leak'] -= 1; seq['leak'] += 1
                cmds.append(cmd_set('session:%d' % seq['leak']))
        owed['uniq'] += a.unique_keys * dt
        while owed['uniq'] >= 1:
            owed['uniq'] -= 1; seq['uniq'] += 1
            cmds.append(cmd_set('item:%d' % seq['uniq']))
        rate = a.ttl_keys * (1 + a.amplitude * math.sin(2 * math.pi * t / a.period)) if a.period else a.ttl_keys
        owed['ttl'] += max(rate, 0) * dt * rnd.uniform(0.8, 1.2)
        while owed['ttl'] >= 1:
            owed['ttl'] -= 1; seq['ttl'] += 1
            cmds.append(cmd_set('cache:%d' % seq['ttl'], ttl=a.ttl))
        if cmds:
            try:
                send(cmds)
            except OSError:
                c.connect()
        delay = start + tick * dt - time.monotonic()
        if delay > 0: time.sleep(delay)

if __name__ == '__main__':
    main()
