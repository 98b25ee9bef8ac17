#!/usr/bin/env python3
"""Writes one host's recorded series from a Leakwatch collector database, in the input format of
`collector-cli simulate`:

  extract.py DB HOST OUTDIR [--interval 1] [--series-step 10] [--max-sites 12] [--onset-uptime S]

HOST.csv:       t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid
HOST.sites.csv: t_seconds,site_id,live_bytes

t_seconds = round(real seconds since the first snapshot / interval) * series-step, so with
snapshots every `interval` real seconds each one stands for `series-step` seconds (a gap, as
during a restart, stays a gap). heap_bytes = the agent's bytesInUse (live heap, usable sizes),
rss_bytes = residentBytes, pid = the process instance's pid.

Sites: `sample.sites` is a PackedRows blob (varint arity, varint rows, then zigzag LEB128 varints,
row = stackId, liveBytes, liveObjects, allocatedBytes; Sources/LeakCollector/Storage/PackedRows.swift).
A site_id is the first frame of the stack that is not an allocator entry point or wrapper and not
in a runtime library (else the first frame); frames the agent left unsymbolized (`0x...`) are
looked up in the image's symbol tables with `nm` (redis is linked -rdynamic). Stacks with the same
site_id are summed. The sites kept are the --max-sites largest by peak live bytes among those
reaching 0.5 % of the peak heap.
"""
import argparse, bisect, gzip, json, os, sqlite3, subprocess, sys

SKIP_PREFIXES = ('malloc', 'calloc', 'realloc', 'reallocf', 'free', 'posix_memalign', 'aligned_alloc',
                 'memalign', 'valloc', 'pvalloc', 'lt_', 'swift_slowAlloc', 'swift_allocObject',
                 'swift_allocBox', 'swift_allocEmptyBox', 'operator new', '__libc_', 'zmalloc', 'zcalloc',
                 'ztrymalloc', 'ztrycalloc', 'zrealloc', 'ztryrealloc', 'zstrdup', 's_malloc', 's_realloc',
                 '_sdsnewlen', 'strdup', 'strndup', '_swift_', 'swift::')
RUNTIME_IMAGES = ('libswiftCore', 'libswift_', 'libswiftSwiftOnoneSupport', 'libFoundation', 'libdispatch',
                  'libc.so', 'libstdc++', 'libjemalloc', 'libLeakAgentPreload', 'ld-linux', 'libicu',
                  'libBlocksRuntime', 'libgcc_s')
SEARCH_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu']

def read_varint(b, i):
    result = shift = 0
    while True:
        byte = b[i]; i += 1
        result |= (byte & 0x7f) << shift
        if byte < 0x80: return result, i
        shift += 7

def unpack(blob):
    arity, i = read_varint(blob, 0)
    rows, i = read_varint(blob, i)
    vals = []
    for _ in range(arity * rows):
        z, i = read_varint(blob, i)
        vals.append((z >> 1) ^ -(z & 1))
    return [vals[k * arity:(k + 1) * arity] for k in range(rows)]

_symtabs = {}
def symtab(image, extra_dirs):
    if image in _symtabs: return _symtabs[image]
    table = []
    for d in extra_dirs + SEARCH_DIRS:
        path = os.path.join(d, image)
        if os.path.isfile(path):
            for flags in (['-D', '--defined-only'], ['--defined-only']):
                out = subprocess.run(['nm', '-S', '-C'] + flags + [path], capture_output=True, text=True).stdout
                for line in out.splitlines():
                    p = line.split(None, 3)
                    if len(p) == 4 and p[2] in 'TtWw':
                        table.append((int(p[0], 16), int(p[1], 16), p[3]))
            break
    table.sort()
    _symtabs[image] = (table, [s[0] for s in table])
    return _symtabs[image]

def symbolize(frame, extra_dirs):
    fn = frame.get('function', '')
    if fn.startswith('0x') and frame.get('image'):
        table, starts = symtab(frame['image'], extra_dirs)
        off = frame.get('imageOffset', -1)
        if off < 0: return '%s+?' % frame['image']   # the agent sent no image offset
        k = bisect.bisect_right(starts, off) - 1
        if k >= 0 and off < table[k][0] + max(table[k][1], 1):
            return table[k][2]
        return '%s+0x%x' % (frame['image'], off)
    return fn

def site_name(frames, extra_dirs):
    names = [(symbolize(f, extra_dirs), f.get('image', '')) for f in frames]
    chosen = None
    for fn, image in names:
        if fn.startswith(SKIP_PREFIXES) or image.startswith(RUNTIME_IMAGES): continue
        chosen = fn; break
    if chosen is None:
        chosen = names[0][0] if names else 'unknown'
    return chosen.replace(',', ';').strip() or 'unknown'

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('db'); ap.add_argument('host'); ap.add_argument('outdir')
    ap.add_argument('--interval', type=float, default=1.0)
    ap.add_argument('--series-step', type=float, default=10.0)
    ap.add_argument('--max-sites', type=int, default=12)
    ap.add_argument('--onset-uptime', type=float, default=None,
                    help='print the t_seconds of the first snapshot of a process at least this old')
    ap.add_argument('--image-dir', action='append', default=[])
    ap.add_argument('--gzip-over', type=int, default=300_000)
    a = ap.parse_args()
    db = sqlite3.connect('file:%s?mode=ro' % a.db, uri=True)
    host_id = db.execute('SELECT id FROM host WHERE name = ?', (a.host,)).fetchone()
    if not host_id: sys.exit('no host %s' % a.host)
    rows = db.execute('''SELECT s.timestampMs, s.bytesInUse, s.residentBytes, s.allocationCount, s.freeCount,
                                p.processId, s.sites, s.uptimeSeconds
                         FROM sample s JOIN processInstance p ON p.id = s.instanceId
                         WHERE s.hostId = ? ORDER BY s.timestampMs, s.id''', (host_id[0],)).fetchall()
    stacks = {}
    for sid, frames in db.execute('SELECT id, frames FROM stack'):
        stacks[sid] = site_name(json.loads(frames), a.image_dir)
    t0 = rows[0][0]
    out_rows, site_rows, last_t = [], [], -1
    onset = None
    for ts, heap, rss, ac, fc, pid, blob, up in rows:
        t = round((ts - t0) / 1000.0 / a.interval) * a.series_step
        if t <= last_t: t = last_t + a.series_step
        last_t = t
        out_rows.append((int(t), heap, rss, ac, fc, pid))
        if a.onset_uptime is not None and onset is None and up >= a.onset_uptime: onset = int(t)
        per = {}
        for stack_id, live, _objs, _alloc in unpack(blob):
            name = stacks.get(stack_id, 'stack-%d' % stack_id)
            per[name] = per.get(name, 0) + live
        site_rows.append((int(t), per))
    peak_heap = max(r[1] for r in out_rows)
    peak = {}
    for _, per in site_rows:
        for n, v in per.items(): peak[n] = max(peak.get(n, 0), v)
    keep = sorted((n for n in peak if peak[n] >= 0.005 * peak_heap), key=lambda n: -peak[n])[:a.max_sites]
    def write(name, header, lines):
        text = header + '\n' + ''.join(l + '\n' for l in lines)
        path = os.path.join(a.outdir, name)
        if len(text) > a.gzip_over:
            path += '.gz'
            with gzip.GzipFile(path, 'wb', mtime=0) as f: f.write(text.encode())
        else:
            with open(path, 'w') as f: f.write(text)
        return path
    hp = write(a.host + '.csv', 't_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid',
               ['%d,%d,%d,%d,%d,%d' % r for r in out_rows])
    sp = write(a.host + '.sites.csv', 't_seconds,site_id,live_bytes',
               ['%d,%s,%d' % (t, n, per[n]) for t, per in site_rows for n in keep if n in per])
    heaps = [r[1] for r in out_rows]
    n = len(heaps)
    pts = ' '.join('%d%%:%.2fM' % (q * 100, heaps[min(n - 1, int(q * (n - 1)))] / 2**20)
                   for q in (0, .1, .25, .5, .75, .9, 1))
    seg = max(1, n // 6)
    med = lambda xs: sorted(xs)[len(xs) // 2] / 2**20
    segs = ' '.join('%.2f/%.2f/%.2f' % (min(heaps[i:i + seg]) / 2**20, med(heaps[i:i + seg]), max(heaps[i:i + seg]) / 2**20)
                    for i in range(0, n - seg + 1, seg))
    pids = []
    for r in out_rows:
        if not pids or pids[-1] != r[5]: pids.append(r[5])
    print(json.dumps({'host': a.host, 'snapshots': n, 'series_hours': round(out_rows[-1][0] / 3600, 2),
                      'restarts': len(pids) - 1, 'onset_t': onset, 'files': [hp, sp],
                      'sites': {k: peak[k] for k in keep}}))
    print('  heap at positions', pts)
    print('  sixths min/median/max MiB:', segs)

if __name__ == '__main__':
    main()
